"""The workflow rules shared by the chaincode and the app: every legal move, illegal samples."""

from __future__ import annotations

import itertools
import json

import pytest

from chaincode.rules import (
    APPLICATION_TRANSITIONS,
    CLEARANCE_TRANSITIONS,
    DEFAULT_CLEARANCE_SIGNERS,
    NEW,
    ApplicationStatus,
    ClearanceStatus,
    NotAuthorised,
    RuleViolation,
    TransitionNotAllowed,
    check_application_transition,
    check_clearance_authority,
    clearance_actor_role,
)

ALL_APPLICATION_MOVES = list(itertools.product(ApplicationStatus, ApplicationStatus))
ALL_CLEARANCE_MOVES = list(itertools.product([NEW, *ClearanceStatus], ClearanceStatus))


@pytest.mark.parametrize("current,target", sorted(APPLICATION_TRANSITIONS))
def test_every_legal_application_move_is_accepted(current, target):
    check_application_transition(current, target)


@pytest.mark.parametrize(
    "current,target",
    [move for move in ALL_APPLICATION_MOVES if move not in APPLICATION_TRANSITIONS],
)
def test_every_other_application_move_is_refused_with_both_statuses_named(current, target):
    with pytest.raises(TransitionNotAllowed) as refused:
        check_application_transition(current, target)
    assert current.replace("_", " ") in str(refused.value)
    assert target.replace("_", " ") in str(refused.value)


@pytest.mark.parametrize("current,target", sorted(CLEARANCE_TRANSITIONS))
def test_every_legal_clearance_move_has_an_actor(current, target):
    assert clearance_actor_role(current, target) in {"registrar", "clearer"}


@pytest.mark.parametrize(
    "current,target",
    [move for move in ALL_CLEARANCE_MOVES if move not in CLEARANCE_TRANSITIONS],
)
def test_every_other_clearance_move_is_refused(current, target):
    with pytest.raises(TransitionNotAllowed):
        clearance_actor_role(current, target)


def test_a_decided_clearance_cannot_be_decided_again():
    for decided in (ClearanceStatus.APPROVED, ClearanceStatus.REJECTED):
        for target in ClearanceStatus:
            with pytest.raises(TransitionNotAllowed):
                clearance_actor_role(decided, target)


def test_only_the_organisation_of_the_kind_may_decide_it():
    check_clearance_authority(kind="HPG", current="in_review", target="approved", actor_kind="HPG")
    for other in ("LTO", "INSURANCE", "EMISSION", ""):
        with pytest.raises(NotAuthorised, match="Only HPG"):
            check_clearance_authority(
                kind="HPG", current="in_review", target="approved", actor_kind=other
            )


def test_only_the_lto_opens_and_cancels_requests():
    check_clearance_authority(kind="EMISSION", current=NEW, target="pending", actor_kind="LTO")
    check_clearance_authority(
        kind="EMISSION", current="pending", target="cancelled", actor_kind="LTO"
    )
    with pytest.raises(NotAuthorised):
        check_clearance_authority(
            kind="EMISSION", current=NEW, target="pending", actor_kind="EMISSION"
        )
    with pytest.raises(NotAuthorised):
        check_clearance_authority(
            kind="EMISSION", current="pending", target="cancelled", actor_kind="EMISSION"
        )


def test_which_organisation_signs_a_clearance_kind_is_data_a_deployment_can_extend(monkeypatch):
    signers = {**DEFAULT_CLEARANCE_SIGNERS, "ROADWORTHY": "EMISSION"}
    monkeypatch.setenv("TALAAN_CLEARANCE_SIGNERS", json.dumps(signers))

    check_clearance_authority(
        kind="ROADWORTHY", current="in_review", target="approved", actor_kind="EMISSION"
    )
    check_clearance_authority(kind="ROADWORTHY", current=NEW, target="pending", actor_kind="LTO")
    with pytest.raises(NotAuthorised, match="Only EMISSION"):
        check_clearance_authority(
            kind="ROADWORTHY", current="in_review", target="approved", actor_kind="HPG"
        )


def test_a_clearance_kind_the_signers_do_not_name_is_refused():
    with pytest.raises(RuleViolation, match="Unknown clearance kind"):
        check_clearance_authority(
            kind="ROADWORTHY", current=NEW, target="pending", actor_kind="LTO"
        )
