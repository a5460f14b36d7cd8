"""What every page's navigation needs to know about the signed-in user."""

from __future__ import annotations

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_role": None}
    from organisations.selectors import memberships_of

    memberships = list(memberships_of(user))
    kinds = {m.organisation.kind for m in memberships}
    if "LTO" in kinds:
        role = "lto"
    elif any(m.role == "admin" for m in memberships):
        role = "org_admin"
    elif memberships:
        role = "officer"
    else:
        role = "owner"
    # A lender's officers also see its mortgages.
    return {"nav_role": role, "nav_memberships": memberships, "nav_lender": "LENDER" in kinds}
