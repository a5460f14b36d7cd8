"""The one line per figure every benchmark ends with, so a script can read them all.

    SUMMARY <figure> = <value> <unit> | compared with <other> = <value> | ratio <r> | goal <goal>

The comparison and ratio parts are left out where a figure has nothing to be compared with.
A figure that could not be measured says so in place of its value (``FAILED`` or
``unavailable``) with the reason in its goal part, so the line still parses.
"""

from __future__ import annotations

import re

SUMMARY_PATTERN = re.compile(
    r"^SUMMARY (?P<figure>.+?) = (?P<value>\S+) (?P<unit>\S+)"
    r"(?: \| compared with (?P<other>.+?) = (?P<other_value>\S+))?"
    r"(?: \| ratio (?P<ratio>\S+))?"
    r" \| goal (?P<goal>.+)$"
)


def number(value: float) -> str:
    """Three significant figures at most, never in exponent form: easy to read and to parse."""
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def summary_line(
    figure: str,
    value: float,
    unit: str,
    *,
    goal: str,
    other: str | None = None,
    other_value: float | None = None,
    ratio: float | None = None,
) -> str:
    line = f"SUMMARY {figure} = {number(value)} {unit}"
    if other is not None and other_value is not None:
        line += f" | compared with {other} = {number(other_value)}"
        if ratio is not None:
            line += f" | ratio {ratio:.3f}"
    return f"{line} | goal {goal}"


def missing_line(figure: str, reason: str, *, failed: bool = True) -> str:
    """A figure that has no value this run: FAILED (something broke) or unavailable."""
    word = "FAILED" if failed else "unavailable"
    reason = " ".join(reason.split()) or "no reason given"
    return f"SUMMARY {figure} = {word} - | goal n/a ({reason})"


def emit(line: str) -> str:
    """Print a SUMMARY line as it is made (flushed, so a runner sees it even if we die next)."""
    assert SUMMARY_PATTERN.match(line), line
    print(line, flush=True)
    return line


def parse(text: str) -> list[re.Match[str]]:
    """Every SUMMARY line of a bench's output, matched; lines that do not parse are dropped."""
    matches = (SUMMARY_PATTERN.match(line) for line in text.splitlines())
    return [match for match in matches if match]


def malformed(text: str) -> list[str]:
    """Lines that start like a SUMMARY line but do not have its form."""
    return [
        line
        for line in text.splitlines()
        if line.startswith("SUMMARY") and not SUMMARY_PATTERN.match(line)
    ]
