"""The notifications clearance raises: requests sent, decided, cancelled and overdue."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from notifications.events import NotificationEvent, register
from organisations.roles import Role

CLEARING = {Role.OFFICER}  # the clearing organisation's people, its admins included
FOLLOWING = {Role.LTO, Role.OWNER}  # who waits on a decision

CLEARANCE_REQUESTED = register(
    NotificationEvent("clearance_requested", label=_("Clearance requested"), audience=CLEARING)
)
CLEARANCE_APPROVED = register(
    NotificationEvent("clearance_approved", label=_("Clearance approved"), audience=FOLLOWING)
)
CLEARANCE_REJECTED = register(
    NotificationEvent("clearance_rejected", label=_("Clearance rejected"), audience=FOLLOWING)
)
CLEARANCE_RETURNED = register(
    NotificationEvent("clearance_returned", label=_("Clearance returned"), audience=FOLLOWING)
)
CLEARANCE_CANCELLED = register(
    NotificationEvent("clearance_cancelled", label=_("Clearance cancelled"), audience=CLEARING)
)
# Told to the LTO's admins and the clearing organisation's admins (clearance.reminders).
CLEARANCE_OVERDUE = register(
    NotificationEvent(
        "clearance_overdue", label=_("Clearance past its deadline"), audience={Role.ADMIN}
    )
)
