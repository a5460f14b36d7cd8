"""The chaincode's endorsement policy as fabric-network/configtx.yaml defines it.

The chaincode is approved without ``--signature-policy``, so it is endorsed by the channel's
``/Channel/Application/Endorsement`` policy. Both forms that policy can take here come down to
"``threshold`` of these organisations' peers": a flat Signature rule (``OutOf(n, 'A.peer', …)``,
``OR``, ``AND``) or an ImplicitMeta rule over every organisation of the channel, which is how
Fabric counts it (common/policies/implicitmeta.go: the threshold is taken over every
organisation, whether it can sign or not). The test peer endorses by it and
tests/chaincode/test_network.py checks its arithmetic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CONFIGTX = Path(__file__).resolve().parents[2] / "fabric-network" / "configtx.yaml"
_GATE = re.compile(r"^(?P<gate>OutOf|OR|AND)\((?P<body>[^()]*)\)$")
_PRINCIPAL = re.compile(r"'(?P<msp>\w+)\.(?P<role>\w+)'")


@dataclass(frozen=True)
class EndorsementPolicy:
    """``threshold`` endorsements from distinct organisations among ``organisations``, each
    by a peer of its own."""

    threshold: int
    organisations: tuple[str, ...]

    def satisfied_by(self, endorsers: Iterable[str]) -> bool:
        return len(set(endorsers) & set(self.organisations)) >= self.threshold


def signature_rule(rule: str) -> EndorsementPolicy:
    """A flat Signature rule whose every principal is an organisation's peer."""
    match = _GATE.match(rule.strip())
    if not match:
        raise ValueError(f"not a flat OutOf/OR/AND rule: {rule!r}")
    body = match["body"]
    principals = [(p["msp"], p["role"]) for p in _PRINCIPAL.finditer(body)]
    if not principals or any(role != "peer" for _, role in principals):
        raise ValueError(f"an endorsement rule names peers only: {rule!r}")
    organisations = tuple(msp for msp, _ in principals)
    if match["gate"] == "OR":
        threshold = 1
    elif match["gate"] == "AND":
        threshold = len(organisations)
    else:
        threshold = int(body.split(",", 1)[0])
    return EndorsementPolicy(threshold, organisations)


def implicit_meta_rule(rule: str, organisations: list[dict[str, Any]]) -> EndorsementPolicy:
    """``MAJORITY|ANY|ALL <sub-policy>`` over the channel's organisations, each by its own
    sub-policy (``OR('<MSP>.peer')``): peerless organisations count towards the threshold."""
    quantifier, sub_policy = rule.split()
    counted = len(organisations)
    threshold = {"ANY": 1, "ALL": counted, "MAJORITY": counted // 2 + 1}[quantifier]
    members: list[str] = []
    for org in organisations:
        policy = org["Policies"][sub_policy]
        members.extend(signature_rule(policy["Rule"]).organisations)
    return EndorsementPolicy(threshold, tuple(members))


def application_policy(name: str, configtx: dict[str, Any] | None = None) -> EndorsementPolicy:
    """The channel profile's Application policy ``name`` (Endorsement, LifecycleEndorsement)."""
    config = configtx or yaml.safe_load(CONFIGTX.read_text())
    application = config["Profiles"]["ClearanceChannel"]["Application"]
    policy = application["Policies"][name]
    if policy["Type"] == "Signature":
        return signature_rule(policy["Rule"])
    return implicit_meta_rule(policy["Rule"], application["Organizations"])


def chaincode_endorsement(configtx: dict[str, Any] | None = None) -> EndorsementPolicy:
    """What every transaction of the chaincode needs: /Channel/Application/Endorsement."""
    return application_policy("Endorsement", configtx)
