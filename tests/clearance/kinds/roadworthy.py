"""A clearance kind from outside ``clearance/``: a roadworthiness inspection by a testing centre.

It proves that a kind is one module: the tests register it (``registered``), add the
requirement row that makes new registrations need it, and drive it through the workflow.
Its findings need no table of their own; this module keeps the last ones it was given, so a
test can see that they reached it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django import forms
from django.core.exceptions import ValidationError
from rest_framework import serializers

from chaincode.rules import DEFAULT_CLEARANCE_SIGNERS, OrgKind
from clearance import kinds
from clearance.forms import DecisionForm
from clearance.models import ClearanceRequest

CODE = "ROADWORTHY"
SAVED: dict[int, RoadworthyFindings] = {}


@dataclass(frozen=True)
class RoadworthyFindings:
    inspection_number: str
    brakes: str
    lights: str


RESULTS = [("pass", "Pass"), ("fail", "Fail")]


def save_findings(request: ClearanceRequest, findings: RoadworthyFindings, approving: bool) -> None:
    if approving and "fail" in (findings.brakes, findings.lights):
        raise ValidationError({"brakes": "Cannot approve a vehicle that failed its inspection."})
    SAVED[request.pk] = findings


class RoadworthyDecisionForm(DecisionForm):
    inspection_number = forms.CharField(max_length=20)
    brakes = forms.ChoiceField(choices=RESULTS)
    lights = forms.ChoiceField(choices=RESULTS)

    def findings(self) -> RoadworthyFindings:
        data = self.cleaned_data
        return RoadworthyFindings(
            inspection_number=data["inspection_number"],
            brakes=data["brakes"],
            lights=data["lights"],
        )


class RoadworthyFindingsSerializer(serializers.Serializer):
    inspection_number = serializers.CharField(max_length=20)
    brakes = serializers.ChoiceField(RESULTS)
    lights = serializers.ChoiceField(RESULTS)


ROADWORTHY = kinds.ClearanceKind(
    code=CODE,
    label="Roadworthiness",
    signed_by=OrgKind.EMISSION,  # the private testing centres inspect vehicles too
    findings=RoadworthyFindings,
    save_findings=save_findings,
    form=RoadworthyDecisionForm,
    serializer=RoadworthyFindingsSerializer,
    template="clearance/kinds/roadworthy.html",
    sla_hours=36,
    evidence=("other",),
    initial=lambda request: {"inspection_number": f"MVIC-{request.pk}"},
)


@pytest.fixture
def registered(settings, monkeypatch) -> Iterator[kinds.ClearanceKind[RoadworthyFindings]]:
    """The kind registered, its fragment findable and the chaincode's data told of it, until
    the test ends."""
    monkeypatch.setenv(
        "TALAAN_CLEARANCE_SIGNERS", json.dumps({**DEFAULT_CLEARANCE_SIGNERS, CODE: "EMISSION"})
    )
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [
        {**engine, "DIRS": [*engine["DIRS"], Path(__file__).parent / "templates"]},
        *settings.TEMPLATES[1:],
    ]
    kinds.register(ROADWORTHY)
    try:
        yield ROADWORTHY
    finally:
        kinds.unregister(CODE)
        SAVED.clear()
