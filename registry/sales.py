"""Transfer of ownership, from the seller's side first: a sale, the buyer's answer, the
notice of sale, and what the LTO's approval of the transfer completes.

The rule for an expired registration (the LTO's): the seller renews first. A transfer is
filed with the Certificate of Registration and the latest official receipt of registration
(LTO Memorandum Circular MC-91-137; the LTO's transfer checklist), so a vehicle whose
registration has expired cannot be offered for sale until it is renewed.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial
from typing import TYPE_CHECKING

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from chaincode.rules import ApplicationStatus
from kernel.errors import Conflict, PermissionDenied
from kernel.i18n import Message, manila_date, user_language
from notifications.queueing import queue_or_log
from notifications.services import notify
from organisations.selectors import is_lto_staff
from registry import origins, participants
from registry.deregistration import refuse_if_deregistered
from registry.events import SALE_ANSWERED, SALE_EXPIRED, TRANSFER_COMPLETED
from registry.holds import refuse_if_held
from registry.models import OriginRecord, RegistrationApplication, Sale, Vehicle, default_office_id
from registry.records import (
    current_owner,
    has_application_in_progress,
    latest_period,
    valid_certificate,
)
from registry.transitions import record_application_change

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

_SALT = "talaan.registry.sale-invitation"
_EXPIRED = "This invitation has expired; ask the seller for a new one."


def invitation_days() -> int:
    return int(getattr(settings, "SALE_INVITATION_DAYS", 14))


def sale_token(sale: Sale) -> str:
    """The buyer's link token: signed, naming the sale; it expires with the invitation."""
    return signing.dumps(str(sale.public_id), salt=_SALT)


def sale_link(sale: Sale) -> str:
    return settings.NOTIFICATIONS_SITE_URL.rstrip("/") + reverse(
        "sale-answer", args=[sale_token(sale)]
    )


def _sale_of_token(token: str, *, lock: bool) -> Sale:
    try:
        public_id = signing.loads(token, salt=_SALT, max_age=dt.timedelta(days=invitation_days()))
    except signing.SignatureExpired:
        raise ValidationError(
            _("This invitation has expired; ask the seller for a new one.")
        ) from None
    except signing.BadSignature:
        raise ValidationError(_("This invitation link is not valid.")) from None
    sales = Sale.objects.select_related("vehicle", "seller", "origin__dealer")
    if lock:
        sales = sales.select_for_update(of=("self",))
    sale = sales.filter(public_id=public_id).first()
    if sale is None:
        raise ValidationError(_("This invitation link is not valid."))
    return sale


def _require_invited_buyer(sale: Sale, user: User) -> None:
    if sale.status != Sale.Status.AWAITING_BUYER:
        raise Conflict(
            Message(
                _("This sale was already answered or closed (%(status)s)."),
                {"status": sale.get_status_display()},
            )
        )
    if timezone.now() >= sale.expires_at:
        raise ValidationError(_EXPIRED)
    if user.pk == sale.seller_id:
        raise PermissionDenied(_("You are the seller; the buyer answers this invitation."))
    if not user.is_active or user.email.strip().lower() != sale.buyer_email.lower():
        raise PermissionDenied(
            _(
                "This invitation was sent to another e-mail address: sign in with the account "
                "whose confirmed e-mail address it was sent to."
            )
        )


def sale_for_buyer(*, user: User, token: str) -> Sale:
    """The sale a link offers, if ``user`` is the invited buyer and it still waits for them."""
    sale = _sale_of_token(token, lock=False)
    _require_invited_buyer(sale, user)
    return sale


@transaction.atomic(durable=True)
def sale_start(*, seller: User, vehicle_id: int, buyer_email: str, buyer_mobile: str = "") -> Sale:
    """The registered owner offers a registered, currently registered vehicle to one buyer."""
    vehicle = Vehicle.objects.select_for_update().filter(pk=vehicle_id).first()
    if vehicle is not None and vehicle.owner_id == seller.pk:
        refuse_if_deregistered(vehicle)
    if (
        vehicle is None
        or not vehicle.is_active
        or current_owner(vehicle) != seller
        or valid_certificate(vehicle) is None
    ):
        raise ValidationError(
            {"vehicle": _("Only the registered owner of a registered vehicle can sell it.")}
        )
    email = _buyer_email(buyer_email, seller)
    today = timezone.localdate()
    period = latest_period(vehicle)
    if period is None or period.valid_to < today:
        ended = (
            Message(_(" on %(date)s"), {"date": manila_date(period.valid_to, long=True)})
            if period
            else ""
        )
        raise Conflict(
            Message(
                _(
                    "The registration expired%(ended)s: renew it before selling. A transfer "
                    "is filed with the current registration's official receipt."
                ),
                {"ended": ended},
            )
        )
    refuse_if_held(vehicle, doing="sold")
    if has_application_in_progress(vehicle):
        raise Conflict(
            Message(
                _("%(vehicle)s has an application in progress; it can be sold once it ends."),
                {"vehicle": vehicle},
            )
        )
    if vehicle.sales.filter(status__in=Sale.OPEN).exists():
        raise Conflict(Message(_("%(vehicle)s already has a sale open."), {"vehicle": vehicle}))
    sale = Sale.objects.create(
        vehicle=vehicle,
        seller=seller,
        buyer_email=email,
        buyer_mobile=buyer_mobile.strip(),
        expires_at=timezone.now() + dt.timedelta(days=invitation_days()),
    )
    transaction.on_commit(partial(_queue_invitation, sale.pk))
    return sale


def _buyer_email(email: str, seller: User) -> str:
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"buyer_email": _("Enter the buyer's e-mail address.")}) from None
    if email == seller.email.strip().lower():
        raise ValidationError({"buyer_email": _("You cannot sell a vehicle to yourself.")})
    return email


@transaction.atomic(durable=True)
def origin_sale_start(
    *, officer: User, origin_id: int, buyer_email: str, buyer_mobile: str = ""
) -> Sale:
    """A dealer's officer invites the buyer of a vehicle the dealer recorded: the buyer's
    acceptance files their new registration of it (the same signed link as a transfer's)."""
    origin = (
        OriginRecord.objects.select_for_update(of=("self",))
        .select_related("dealer")
        .filter(pk=origin_id)
        .first()
    )
    if origin is None:
        raise ValidationError({"origin": _("No such origin record.")})
    origins.dealer_for_officer(officer, origin.dealer_id)
    email = _buyer_email(buyer_email, officer)
    if origin.vehicle_id is not None:
        raise Conflict(
            Message(
                _("%(origin)s is sold already: its buyer's vehicle is recorded."),
                {"origin": origin},
            )
        )
    if origin.sales.filter(status__in=Sale.OPEN).exists():
        raise Conflict(
            Message(
                _("%(origin)s already has a sale invitation open; withdraw it first."),
                {"origin": origin},
            )
        )
    sale = Sale.objects.create(
        origin=origin,
        seller=officer,
        buyer_email=email,
        buyer_mobile=buyer_mobile.strip(),
        expires_at=timezone.now() + dt.timedelta(days=invitation_days()),
    )
    transaction.on_commit(partial(_queue_invitation, sale.pk))
    return sale


def _queue_invitation(sale_id: int) -> None:
    queue_or_log(
        "registry.tasks.send_sale_invitation",
        sale_id,
        failure=f"Could not queue the invitation of sale {sale_id}; the sweep will send it.",
    )


def sale_invitation_send(*, sale_id: int) -> bool:
    """E-mail the buyer their link, once; True when it went out (or needs not)."""
    sale = (
        Sale.objects.select_related("vehicle", "seller", "origin__dealer")
        .filter(pk=sale_id)
        .first()
    )
    if (
        sale is None
        or sale.invitation_sent_at is not None
        or sale.status != sale.Status.AWAITING_BUYER
    ):
        return True
    seller = sale.seller.get_full_name() or sale.seller.get_username()
    if sale.origin is not None:
        seller, what = (
            sale.origin.dealer.name,
            Message(
                _(
                    "the new %(vehicle)s (VIN %(vin)s) you bought; accepting files its first "
                    "registration in your name, with the numbers the dealer recorded"
                ),
                {
                    "vehicle": f"{sale.origin.year} {sale.origin.make} {sale.origin.model}",
                    "vin": sale.origin.vin,
                },
            ),
        )
    else:
        assert sale.vehicle is not None  # a sale is of a vehicle or of an origin record
        what = Message(
            _("a %(vehicle)s (plate %(plate)s)"),
            {
                "vehicle": f"{sale.vehicle.year} {sale.vehicle.make} {sale.vehicle.model}",
                "plate": sale.vehicle.plate_number,
            },
        )
    try:
        # The buyer may have no account yet: the seller's language is the best guess.
        with translation.override(user_language(sale.seller)):
            subject, text = _invitation_text(sale, seller, what)
        send_mail(
            subject=subject,
            message=text,
            from_email=None,
            recipient_list=[sale.buyer_email],
        )
    except Exception:  # the sweep tries again; the sale stays as it is
        logger.warning("The invitation of sale %s could not be sent.", sale.pk, exc_info=True)
        return False
    Sale.objects.filter(pk=sale.pk, invitation_sent_at__isnull=True).update(
        invitation_sent_at=timezone.now()
    )
    return True


def _invitation_text(sale: Sale, seller: str, what: Message) -> tuple[str, str]:
    return (
        str(Message(_("%(seller)s is selling you a vehicle"), {"seller": seller})),
        str(
            Message(
                _(
                    "%(seller)s has started the sale of %(what)s to you on Talaan.\n\n"
                    "Open this link, signed in with the account of this e-mail address (or "
                    "create one), to accept or decline it before %(date)s:\n\n%(link)s\n"
                ),
                {
                    "seller": seller,
                    "what": what,
                    "date": manila_date(sale.expires_at, long=True),
                    "link": sale_link(sale),
                },
            )
        ),
    )


def sale_invitations_resend() -> int:
    """Beat job: send every open sale's invitation that has not gone out yet."""
    unsent = Sale.objects.filter(
        status=Sale.Status.AWAITING_BUYER,
        invitation_sent_at__isnull=True,
        created_at__lt=timezone.now() - dt.timedelta(minutes=2),
    ).values_list("pk", flat=True)
    return sum(sale_invitation_send(sale_id=pk) for pk in unsent[:200])


@transaction.atomic(durable=True)
def sale_accept(*, buyer: User, token: str) -> Sale:
    """The invited buyer accepts: the transfer application is filed in their name."""
    sale = _sale_of_token(token, lock=True)
    _require_invited_buyer(sale, buyer)
    if sale.origin_id is not None:
        return _origin_sale_accept(sale, buyer)
    assert sale.vehicle_id is not None  # a sale without an origin is of a vehicle
    vehicle = Vehicle.objects.select_for_update().get(pk=sale.vehicle_id)
    refuse_if_held(vehicle, doing="transferred")
    if has_application_in_progress(vehicle):
        raise Conflict(
            Message(
                _("%(vehicle)s has an application in progress; the sale cannot go on now."),
                {"vehicle": vehicle},
            )
        )
    period = latest_period(vehicle)
    today = timezone.localdate()
    if period is None or period.valid_to <= today:
        raise Conflict(_("The vehicle's registration has expired: the seller must renew it first."))
    application = RegistrationApplication(
        applicant=buyer,
        vehicle=vehicle,
        type=RegistrationApplication.Type.TRANSFER,
        period_start=today,
        period_end=period.valid_to,  # a transfer carries the registration over, not renews it
        office_id=default_office_id(),
    )
    application.full_clean()
    application.save(force_insert=True)
    sale.status, sale.buyer, sale.application = Sale.Status.ACCEPTED, buyer, application
    sale.save(update_fields=["status", "buyer", "application", "updated_at"])
    _tell_seller(
        sale,
        Message(
            pgettext_lazy("sms", "The buyer accepted the sale of %(subject)s"),
            {"subject": str(vehicle)},
        ),
        _("They will now file the papers."),
    )
    return sale


def _origin_sale_accept(sale: Sale, buyer: User) -> Sale:
    """The buyer of a dealer's new vehicle accepts: the vehicle is made from the origin record
    in their name and its first registration filed as a draft, for its papers."""
    assert sale.origin_id is not None  # the caller's branch
    origin = OriginRecord.objects.select_for_update().get(pk=sale.origin_id)
    vehicle = origins.vehicle_from_origin(origin, owner=buyer)
    today = timezone.localdate()
    application = RegistrationApplication(
        applicant=buyer,
        vehicle=vehicle,
        type=RegistrationApplication.Type.NEW,
        period_start=today,
        # Provisional until the plate is issued, as for any first registration.
        period_end=today + dt.timedelta(days=3 * 365 - 1),
        office_id=default_office_id(),
    )
    application.full_clean()
    application.save(force_insert=True)
    sale.status, sale.buyer, sale.application = Sale.Status.ACCEPTED, buyer, application
    sale.vehicle = vehicle
    sale.save(update_fields=["status", "buyer", "application", "vehicle", "updated_at"])
    _tell_seller(
        sale,
        Message(
            pgettext_lazy("sms", "The buyer accepted the sale of %(subject)s"),
            {"subject": str(origin)},
        ),
        _("Their first registration is filed from your origin record."),
    )
    return sale


@transaction.atomic(durable=True)
def sale_decline(*, buyer: User, token: str) -> Sale:
    sale = _sale_of_token(token, lock=True)
    _require_invited_buyer(sale, buyer)
    _end(sale, Sale.Status.DECLINED, "Declined by the buyer.")
    _tell_seller(
        sale,
        Message(
            pgettext_lazy("sms", "The buyer declined the sale of %(subject)s"),
            {"subject": str(sale.subject)},
        ),
        "",
    )
    return sale


def _lock_own_sale(seller: User, sale_id: int) -> Sale:
    """The sale, locked, if ``seller`` sells it: its seller, or for a dealer's sale any
    active officer of the dealer."""
    sale = (
        Sale.objects.select_for_update(of=("self",))
        .select_related("vehicle", "origin")
        .filter(pk=sale_id)
        .first()
    )
    if sale is None:
        raise PermissionDenied(_("Only the seller can do this."))
    if sale.origin is not None:
        origins.dealer_for_officer(seller, sale.origin.dealer_id)
    elif sale.seller_id != seller.pk:
        raise PermissionDenied(_("Only the seller can do this."))
    return sale


@transaction.atomic(durable=True)
def sale_withdraw(*, seller: User, sale_id: int) -> Sale:
    """The seller takes the offer back, only before the buyer has accepted."""
    sale = _lock_own_sale(seller, sale_id)
    if sale.status == Sale.Status.ACCEPTED:
        raise Conflict(
            _("The buyer has accepted and filed the transfer: only the LTO can cancel it now.")
        )
    if sale.status != Sale.Status.AWAITING_BUYER:
        raise Conflict(
            Message(
                _("This sale is already closed (%(status)s)."),
                {"status": sale.get_status_display()},
            )
        )
    _end(sale, Sale.Status.WITHDRAWN, "Withdrawn by the seller.")
    return sale


@transaction.atomic(durable=True)
def notice_of_sale_file(*, seller: User, sale_id: int, handed_over_on: dt.date) -> Sale:
    """The seller's notice of sale (release of liability): the date the vehicle was handed
    over, recorded once and shown to the LTO, whether or not the buyer has answered yet."""
    sale = _lock_own_sale(seller, sale_id)
    if sale.origin_id is not None:
        raise Conflict(
            _("A dealer's sale of a new vehicle has no notice of sale: it had no owner.")
        )
    if sale.notice_filed_at is not None:
        raise Conflict(
            Message(
                _("The notice of sale was already filed (%(notice_of_sale_on)s)."),
                {"notice_of_sale_on": manila_date(sale.notice_of_sale_on, long=True)},
            )
        )
    if sale.status not in (*Sale.OPEN, Sale.Status.COMPLETED):
        raise Conflict(
            Message(_("This sale is closed (%(status)s)."), {"status": sale.get_status_display()})
        )
    today = timezone.localdate()
    if handed_over_on > today:
        raise ValidationError({"handed_over_on": _("The handover date cannot be in the future.")})
    assert sale.vehicle is not None  # a sale without an origin is of a vehicle
    started = sale.vehicle.ownership_periods.filter(owner=seller).order_by("-started_on").first()
    if started is not None and handed_over_on < started.started_on:
        raise ValidationError(
            {"handed_over_on": _("The handover cannot be before you owned the vehicle.")}
        )
    sale.notice_of_sale_on, sale.notice_filed_at = handed_over_on, timezone.now()
    sale.save(update_fields=["notice_of_sale_on", "notice_filed_at", "updated_at"])
    return sale


@transaction.atomic(durable=True)
def sale_cancel(*, actor: User, sale_id: int, reason: str) -> Sale:
    """The LTO cancels an open sale (the transfer application, if filed, is cancelled too)."""
    if not is_lto_staff(actor):
        raise PermissionDenied(_("Only LTO staff can cancel a sale."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the sale is cancelled.")})
    sale = (
        Sale.objects.select_for_update(of=("self",))
        .select_related("vehicle", "origin")
        .filter(pk=sale_id)
        .first()
    )
    if sale is None:
        raise ValidationError(_("No such sale."))
    if not sale.is_open:
        raise Conflict(
            Message(
                _("This sale is already closed (%(status)s)."),
                {"status": sale.get_status_display()},
            )
        )
    if sale.origin_id is not None and sale.status == Sale.Status.ACCEPTED:
        raise Conflict(
            _(
                "The buyer's vehicle is made from the dealer's origin record and registration "
                "filed: reject that application instead."
            )
        )
    if sale.application_id is not None:
        application = RegistrationApplication.objects.select_for_update().get(
            pk=sale.application_id
        )
        if application.status not in RegistrationApplication.FINISHED:
            record_application_change(
                application=application,
                to_status=ApplicationStatus.CANCELLED,
                actor=actor,
                reason=f"The LTO cancelled the sale: {reason.strip()}",
            )
            for participant in participants.participants():
                participant.application_closed(
                    application=application, actor=actor, reason="The LTO cancelled the sale."
                )
    _end(sale, Sale.Status.CANCELLED, reason.strip())
    _tell_seller(
        sale,
        Message(
            pgettext_lazy("sms", "The LTO cancelled the sale of %(subject)s"),
            {"subject": str(sale.subject)},
        ),
        reason.strip(),
    )
    return sale


def sale_complete(*, application: RegistrationApplication, seller: User | None) -> None:
    """After the approval of a transfer moved the ownership: close the sale, tell both."""
    sale = Sale.objects.select_for_update().filter(application=application).first()
    if sale is None:
        return
    _end(sale, Sale.Status.COMPLETED, "")
    vehicle = application.vehicle
    notify(
        recipients=[user for user in (seller, application.applicant) if user is not None],
        event=TRANSFER_COMPLETED,
        title=Message(
            pgettext_lazy("sms", "Ownership of %(plate)s transferred"),
            {"plate": vehicle.plate_number},
        ),
        body=Message(
            _("%(name)s is now the registered owner."),
            {"name": application.applicant.get_full_name()},
        ),
        link=reverse("vehicle-ownership", args=[vehicle.pk]),
    )


def sales_expire(*, now: dt.datetime | None = None) -> int:
    """Beat job: sales the buyer never answered expire, and their sellers are told."""
    now = now or timezone.now()
    expired = 0
    for pk in Sale.objects.filter(
        status=Sale.Status.AWAITING_BUYER, expires_at__lte=now
    ).values_list("pk", flat=True):
        with transaction.atomic():
            sale = (
                Sale.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("vehicle", "origin")
                .filter(pk=pk, status=Sale.Status.AWAITING_BUYER)
                .first()
            )
            if sale is None:
                continue
            _end(sale, Sale.Status.EXPIRED, "The buyer did not answer in time.")
            notify(
                recipients=[sale.seller],
                event=SALE_EXPIRED,
                title=Message(
                    pgettext_lazy("sms", "The sale of %(subject)s expired"),
                    {"subject": str(sale.subject)},
                ),
                body=Message(
                    _("%(buyer)s did not answer by %(date)s."),
                    {"buyer": sale.buyer_email, "date": manila_date(sale.expires_at, long=True)},
                ),
                link=reverse("sale-detail", args=[sale.pk]),
            )
            expired += 1
    return expired


def _end(sale: Sale, status: str, reason: str) -> None:
    sale.status, sale.ended_at, sale.end_reason = status, timezone.now(), reason
    sale.save(update_fields=["status", "ended_at", "end_reason", "updated_at"])


def _tell_seller(sale: Sale, title: Message, body: str | Promise) -> None:
    notify(
        recipients=[sale.seller],
        event=SALE_ANSWERED,
        title=title,
        body=body,
        link=reverse("sale-detail", args=[sale.pk]),
    )
