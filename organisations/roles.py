"""What a person is to Talaan, read from their memberships: the roles other apps address.

A person with no active membership is a vehicle owner. A member of the LTO is LTO staff; a
member of any other organisation is one of its officers; an organisation's admin is also
``ADMIN`` (so the LTO's admins are both ``LTO`` and ``ADMIN``). A member of a dealer (an
accredited dealer or importer, which records vehicles' origins and clears nothing) is
``DEALER``, not ``OFFICER``. A lender's officer is
also ``LENDER``: lenders are told of their mortgages, which other officers have none of.
"""

from __future__ import annotations

from enum import StrEnum

from chaincode.rules import OrgKind
from kernel.auth import AnyUser
from organisations.models import Membership
from organisations.selectors import memberships_of


class Role(StrEnum):
    OWNER = "owner"
    LTO = "lto"
    OFFICER = "officer"
    ADMIN = "admin"
    DEALER = "dealer"
    LENDER = "lender"


_KIND_ROLES: dict[str, Role] = {OrgKind.LTO: Role.LTO, OrgKind.DEALER: Role.DEALER}


def roles_of(user: AnyUser) -> frozenset[Role]:
    if not user.is_authenticated:
        return frozenset()
    roles: set[Role] = set()
    for kind, role in memberships_of(user).values_list("organisation__kind", "role"):
        roles.add(_KIND_ROLES.get(kind, Role.OFFICER))
        if kind == OrgKind.LENDER:
            roles.add(Role.LENDER)
        if role == Membership.Role.ADMIN:
            roles.add(Role.ADMIN)
    return frozenset(roles or {Role.OWNER})
