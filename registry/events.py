"""The notifications registry raises: about applications, registrations and documents."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from notifications.events import NotificationEvent, register
from organisations.roles import Role

APPLICATION_SUBMITTED = register(
    NotificationEvent(
        "application_submitted", label=_("Application submitted"), audience={Role.LTO}
    )
)
APPLICATION_RETURNED = register(
    NotificationEvent(
        "application_returned",
        label=_("Application returned for correction"),
        audience={Role.OWNER},
    )
)
APPLICATION_CLEARED = register(
    NotificationEvent(
        "application_cleared", label=_("All clearances approved"), audience={Role.LTO, Role.OWNER}
    )
)
REGISTRATION_APPROVED = register(
    NotificationEvent(
        "registration_approved", label=_("Registration approved"), audience={Role.OWNER}
    )
)
REGISTRATION_REJECTED = register(
    NotificationEvent(
        "registration_rejected", label=_("Registration rejected"), audience={Role.OWNER}
    )
)
REGISTRATION_EXPIRING = register(
    NotificationEvent(
        "registration_expiring", label=_("Registration expiring soon"), audience={Role.OWNER}
    )
)
DOCUMENT_INTEGRITY_FAILED = register(
    NotificationEvent(
        "document_integrity_failed",
        label=_("Document failed its integrity check"),
        audience={Role.LTO},
    )
)
SALE_ANSWERED = register(
    NotificationEvent(
        "sale_answered",
        label=_("Your buyer accepted or declined the sale"),
        audience={Role.OWNER, Role.DEALER},
    )
)
SALE_EXPIRED = register(
    NotificationEvent(
        "sale_expired",
        label=_("A sale expired without the buyer's answer"),
        audience={Role.OWNER, Role.DEALER},
    )
)
TRANSFER_COMPLETED = register(
    NotificationEvent(
        "transfer_completed", label=_("Transfer of ownership completed"), audience={Role.OWNER}
    )
)
ORIGIN_REGISTERED = register(
    NotificationEvent(
        "origin_registered",
        label=_("A vehicle your dealership recorded is registered to its buyer"),
        audience={Role.DEALER},
    )
)
VEHICLE_DEREGISTERED = register(
    NotificationEvent(
        "vehicle_deregistered",
        label=_("Your vehicle was deregistered by the LTO"),
        audience={Role.OWNER},
    )
)
HOLD_PLACED = register(
    NotificationEvent(
        "hold_placed",
        label=_("A hold was placed on your vehicle (whom to contact)"),
        audience={Role.OWNER},
    )
)
HOLD_LIFTED = register(
    NotificationEvent(
        "hold_lifted", label=_("A hold on your vehicle was lifted"), audience={Role.OWNER}
    )
)
MORTGAGE_CONSENT_REQUESTED = register(
    NotificationEvent(
        "mortgage_consent_requested",
        label=_("A lender asks your consent to a chattel mortgage"),
        audience={Role.OWNER},
    )
)
MORTGAGE_ANSWERED = register(
    NotificationEvent(
        "mortgage_answered",
        label=_("The owner consented to or declined your mortgage"),
        audience={Role.LENDER},
    )
)
MORTGAGE_ANNOTATED = register(
    NotificationEvent(
        "mortgage_annotated",
        label=_("A chattel mortgage was annotated on your vehicle"),
        audience={Role.OWNER},
    )
)
MORTGAGE_RELEASED = register(
    NotificationEvent(
        "mortgage_released",
        label=_("A chattel mortgage was released"),
        audience={Role.OWNER, Role.LENDER},
    )
)
