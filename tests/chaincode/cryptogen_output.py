"""What Fabric's cryptogen was seen to produce, read from its recorded output.

``tests/fixtures/fabric/cryptogen-2.5.16-output.txt`` is the output of a real cryptogen
2.5.16 run (every folder and file, then each node's TLS names), with a note of what changed
when the orderer's spec was given a ``CommonName``; ``cryptogen-2.5.16-output-dealer.txt`` is
another run, on the crypto-config.yaml with the dealers' organisation
(``crypto-config-dealer.yaml``), and ``cryptogen-2.5.16-output-lender.txt`` one with the
lenders' organisation too (``crypto-config-lender.yaml``). Nothing here predicts cryptogen:
a crypto-config.yaml that was not run is refused, so the test asks for a new recording instead
of trusting a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fabric"
OUTPUT = FIXTURES / "cryptogen-2.5.16-output.txt"
# crypto-config.yaml as it stood when the output was recorded (fabric-network/ at 1fe5758).
RECORDED_CONFIG = FIXTURES / "crypto-config-1fe5758.yaml"
# Later runs recorded whole, each beside the crypto-config.yaml it was run on.
LATER_RUNS = (
    (FIXTURES / "crypto-config-dealer.yaml", FIXTURES / "cryptogen-2.5.16-output-dealer.txt"),
    (FIXTURES / "crypto-config-lender.yaml", FIXTURES / "cryptogen-2.5.16-output-lender.txt"),
)

_TLS_LINE = re.compile(r"^\./(?P<node>.+)/tls/server\.crt: (?P<names>.+)$")
_COMMON_NAME = re.compile(r"'CommonName: (?P<name>[^']+)' added to the orderer's Specs entry")
_FOLDER = re.compile(r"the orderer's folder becomes (?P<folder>orderers/\S+) and its TLS names")
_NAMES = re.compile(r"^# (?P<names>DNS:.+)$")


class NotRecorded(Exception):
    """No recorded cryptogen run matches this crypto-config.yaml."""


@dataclass(frozen=True)
class CryptogenOutput:
    """Every path under cryptogen's --output folder, and each node folder's TLS DNS names."""

    paths: frozenset[str]
    tls_names: dict[str, frozenset[str]]

    def exists(self, path: str) -> bool:
        return path.strip("/") in self.paths

    def node_of(self, path: str) -> str | None:
        """The node folder (…/peers/<name> or …/orderers/<name>) that ``path`` lies in."""
        for node in self.tls_names:
            if path == node or path.startswith(node + "/"):
                return node
        return None


def _dns_names(text: str) -> frozenset[str]:
    return frozenset(
        part.strip().removeprefix("DNS:") for part in text.split(",") if "DNS:" in part
    )


def _read(output: Path) -> tuple[CryptogenOutput, str, str, frozenset[str]]:
    """A recorded run, and its CommonName variant if noted: (output, common name, folder,
    names)."""
    paths: set[str] = set()
    tls: dict[str, frozenset[str]] = {}
    common_name = folder = ""
    names: frozenset[str] = frozenset()
    for line in output.read_text().splitlines():
        if match := _TLS_LINE.match(line):
            tls[match["node"]] = _dns_names(match["names"])
        elif match := _COMMON_NAME.search(line):
            common_name = match["name"]
        elif match := _FOLDER.search(line):
            folder = match["folder"]
        elif common_name and (match := _NAMES.match(line)):
            names = _dns_names(match["names"])
        elif line and not line.startswith("#"):
            paths.add(line.strip())
    assert paths and tls, f"the recording {output.name} changed shape"
    return CryptogenOutput(frozenset(paths), tls), common_name, folder, names


def _recorded() -> tuple[CryptogenOutput, str, str, frozenset[str]]:
    """The first recorded run, and the CommonName variant its note describes."""
    found = _read(OUTPUT)
    assert all(found[1:]), "the recording changed shape"
    return found


def _with_common_name(
    output: CryptogenOutput, folder: str, names: frozenset[str]
) -> CryptogenOutput:
    """The recorded run with the orderer's folder and TLS names as the note says they became."""
    (old_node,) = [node for node in output.tls_names if "/orderers/" in node]
    new_node = old_node.rsplit("/orderers/", 1)[0] + "/" + folder
    renamed = {
        new_node + path[len(old_node) :] if path.startswith(old_node) else path
        for path in output.paths
    }
    tls = {node: found for node, found in output.tls_names.items() if node != old_node}
    tls[new_node] = names
    return CryptogenOutput(frozenset(renamed), tls)


def cryptogen_output(config: dict[str, Any]) -> CryptogenOutput:
    """What cryptogen 2.5.16 produced for ``config``, if that config was ever run."""
    recorded, common_name, folder, names = _recorded()
    base = yaml.safe_load(RECORDED_CONFIG.read_text())
    if config == base:
        return recorded
    with_common_name = yaml.safe_load(RECORDED_CONFIG.read_text())
    (spec,) = with_common_name["OrdererOrgs"][0]["Specs"]
    spec["CommonName"] = common_name
    if config == with_common_name:
        return _with_common_name(recorded, folder, names)
    for run_config, run_output in LATER_RUNS:
        if config == yaml.safe_load(run_config.read_text()):
            return _read(run_output)[0]
    raise NotRecorded(
        "crypto-config.yaml differs from every recorded cryptogen run: run cryptogen 2.5.16 on "
        f"it and record its output in {OUTPUT.name}."
    )
