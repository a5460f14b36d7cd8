"""The project's gettext catalogues (.po), read and written without a library.

Used by the translation guards (tests/talaan/test_translations.py): which entries exist,
which are left empty or fuzzy, and a pseudo-locale made from all of them.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}


@dataclass
class Entry:
    msgid: str
    msgid_plural: str = ""
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0


def catalogues(language: str = "fil") -> list[Path]:
    """Every catalogue of the language in the repository: locale/ and each app's locale/."""
    return sorted(
        path
        for path in REPO.glob(f"**/locale/{language}/LC_MESSAGES/*.po")
        if ".venv" not in path.parts and "node_modules" not in path.parts
    )


def _unquote(text: str) -> str:
    body = text.strip()[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped.replace("\t", "\\t") + '"'


def read(path: Path) -> list[Entry]:
    """The catalogue's entries, the header (msgid "") first; obsolete (#~) ones left out."""
    entries: list[Entry] = []
    current: Entry | None = None
    flags: set[str] = set()
    target: tuple[str, int] | None = None  # which field a continuation line extends
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#,"):
            flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            if current is None or target is None:
                raise ValueError(f"{path}:{number}: a string continues nothing")
            name, index = target
            value = _unquote(line)
            if name == "msgstr":
                current.msgstr[index] += value
            else:
                setattr(current, name, (getattr(current, name) or "") + value)
            continue
        # An entry starts at its msgctxt, or at a msgid that no msgctxt came just before.
        if keyword == "msgctxt" or (keyword == "msgid" and (current is None or current.msgstr)):
            current = Entry(msgid="", flags=flags, line=number)
            entries.append(current)
            flags = set()
        if current is None:
            raise ValueError(f"{path}:{number}: {line!r} outside an entry")
        if keyword.startswith("msgstr"):
            index = int(keyword[7:-1]) if keyword != "msgstr" else 0
            current.msgstr[index] = _unquote(rest)
            target = ("msgstr", index)
        elif keyword in {"msgid", "msgid_plural", "msgctxt"}:
            setattr(current, keyword, _unquote(rest))
            target = (keyword, 0)
        else:
            raise ValueError(f"{path}:{number}: unknown line {line!r}")
    return entries


def write_pseudo(entries: list[Entry], folder: Path, marker: tuple[str, str]) -> Path:
    """A "fil" catalogue whose every string is its English msgid inside the marker,
    compiled with msgfmt into ``folder/fil/LC_MESSAGES/django.mo`` (a LOCALE_PATHS entry)."""
    opening, closing = marker
    lines = [
        'msgid ""',
        'msgstr ""',
        '"Content-Type: text/plain; charset=UTF-8\\n"',
        '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"',
        "",
    ]

    def wrapped(text: str) -> str:
        # Newlines that end or start a message stay outside the marker: msgfmt requires a
        # msgstr to begin and end with a newline exactly when its msgid does.
        body = text.strip("\n")
        head, tail = text[: len(text) - len(text.lstrip("\n"))], text[len(text.rstrip("\n")) :]
        return head + opening + body + closing + tail

    seen: set[tuple[str | None, str]] = set()
    for entry in entries:
        key = (entry.msgctxt, entry.msgid)
        if not entry.msgid or key in seen:
            continue
        seen.add(key)
        if entry.msgctxt is not None:
            lines.append(f"msgctxt {_quote(entry.msgctxt)}")
        lines.append(f"msgid {_quote(entry.msgid)}")
        if entry.msgid_plural:
            lines.append(f"msgid_plural {_quote(entry.msgid_plural)}")
            lines.append(f"msgstr[0] {_quote(wrapped(entry.msgid))}")
            lines.append(f"msgstr[1] {_quote(wrapped(entry.msgid_plural))}")
        else:
            lines.append(f"msgstr {_quote(wrapped(entry.msgid))}")
        lines.append("")
    messages = folder / "fil" / "LC_MESSAGES"
    messages.mkdir(parents=True, exist_ok=True)
    source = messages / "django.po"
    source.write_text("\n".join(lines), encoding="utf-8")
    subprocess.run(["msgfmt", "-o", str(messages / "django.mo"), str(source)], check=True)
    return folder
