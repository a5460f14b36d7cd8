"""What every page's navigation needs to know about the signed-in user."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_role": None}
    from organisations.selectors import memberships_of

    memberships = list(memberships_of(user))
    kinds = {m.organisation.kind for m in memberships}
    dealer = next((m.organisation for m in memberships if m.organisation.kind == "DEALER"), None)
    if "LTO" in kinds:
        role = "lto"
    elif dealer is not None:
        # An accredited dealer's people record origins and clear nothing: no clearance queue.
        role = "dealer"
    elif any(m.role == "admin" for m in memberships):
        role = "org_admin"
    elif memberships:
        role = "officer"
    else:
        role = "owner"
    from chaincode.rules import HOLD_PLACERS

    # Officers of the kinds that place holds (HPG, the LTO) have the Holds page.
    nav_holds = bool(kinds & set(HOLD_PLACERS.values()))
    return {
        "nav_role": role,
        "nav_memberships": memberships,
        "nav_dealer": dealer,
        "nav_admin": any(m.role == "admin" for m in memberships),
        "nav_holds": nav_holds,
        # A lender's officers also see its mortgages.
        "nav_lender": "LENDER" in kinds,
    }


def service_identity(request: HttpRequest) -> dict:
    """The office behind the service, for the header, the footer and the privacy notice."""
    return {
        "service_identity": {
            name.lower(): getattr(settings, name)
            for name in (
                "GOVERNMENT_NAME",
                "OFFICE_PARENT",
                "OFFICE_NAME",
                "SERVICE_NAME",
                "OFFICE_ADDRESS",
                "HELP_EMAIL",
                "HELP_PHONE",
                "HELP_HOURS",
                "DPO_NAME",
                "DPO_EMAIL",
                "DPO_PHONE",
                "DPO_ADDRESS",
            )
        }
    }
