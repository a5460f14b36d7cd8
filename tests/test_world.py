"""The tests' shared world: built once a session, read fresh by each test, rolled back after."""

from __future__ import annotations

from organisations.models import Membership
from organisations.selectors import is_lto_staff, lto_staff


def test_the_lto_reviewer_and_approver_are_not_lto_staff_unless_a_test_asks(world):
    assert set(lto_staff().values_list("username", flat=True)) == {"lto.admin"}
    assert not is_lto_staff(world.lto_reviewer) and not is_lto_staff(world.lto_approver)


def test_four_eyes_puts_the_lto_reviewer_and_approver_on_duty(four_eyes):
    assert set(lto_staff().values_list("username", flat=True)) == {
        "lto.admin",
        "lto.reviewer",
        "lto.approver",
    }
    assert Membership.objects.get(user=four_eyes.lto_approver).role == Membership.Role.OFFICER


def test_a_test_may_change_the_world(world):
    world.owner.first_name = "Changed"
    world.owner.save()
    world.lto.name = "Renamed"
    world.lto.save()
    Membership.objects.filter(user=world.hpg_officer).delete()


def test_and_the_next_test_finds_it_as_it_was(world):
    # Runs after the one above (file order): its changes were rolled back.
    assert world.owner.first_name == "Test"
    assert world.lto.name == "LTO"
    assert Membership.objects.filter(user=world.hpg_officer, organisation=world.hpg).exists()
