"""Registry learns what other apps contribute to an application from the participants they
register, and never imports them."""

from __future__ import annotations

import pytest

from clearance.participation import ClearanceParticipant
from payments.participation import PaymentsParticipant
from registry import participants
from registry.selectors import applications_for_user
from tests.conftest import sent_for_clearance


def test_clearance_and_payments_take_part_once_django_has_started():
    assert [type(p) for p in participants.participants()] == [
        ClearanceParticipant,
        PaymentsParticipant,
    ]


def test_registering_the_same_participant_again_changes_nothing():
    participants.register(ClearanceParticipant())

    assert len(participants.participants()) == 2


@pytest.mark.django_db
def test_officers_see_the_applications_a_participant_shows_them_and_no_others(world, monkeypatch):
    application, _ = sent_for_clearance(world)
    assert list(applications_for_user(world.hpg_officer)) == [application]

    monkeypatch.setattr(participants, "_participants", [])

    assert list(applications_for_user(world.hpg_officer)) == []
    assert list(applications_for_user(world.owner)) == [application]
