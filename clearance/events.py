"""The notifications clearance raises: requests sent, decided, cancelled and overdue."""

from __future__ import annotations

from notifications.events import NotificationEvent, register
from organisations.roles import Role

CLEARING = {Role.OFFICER}  # the clearing organisation's people, its admins included
FOLLOWING = {Role.LTO, Role.OWNER}  # who waits on a decision

CLEARANCE_REQUESTED = register(
    NotificationEvent("clearance_requested", label="Clearance requested", audience=CLEARING)
)
CLEARANCE_APPROVED = register(
    NotificationEvent("clearance_approved", label="Clearance approved", audience=FOLLOWING)
)
CLEARANCE_REJECTED = register(
    NotificationEvent("clearance_rejected", label="Clearance rejected", audience=FOLLOWING)
)
CLEARANCE_RETURNED = register(
    NotificationEvent("clearance_returned", label="Clearance returned", audience=FOLLOWING)
)
CLEARANCE_CANCELLED = register(
    NotificationEvent("clearance_cancelled", label="Clearance cancelled", audience=CLEARING)
)
# Told to the LTO's admins and the clearing organisation's admins (clearance.reminders).
CLEARANCE_OVERDUE = register(
    NotificationEvent(
        "clearance_overdue", label="Clearance past its deadline", audience={Role.ADMIN}
    )
)
