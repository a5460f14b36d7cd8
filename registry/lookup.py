"""What the public may learn about a registration, found by reference, CR number or plate.

No personal data: the vehicle's description, its certificate's state and its registration
period, and which application (by reference) the question was about.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Value
from django.db.models.functions import Replace, Upper
from django.utils import timezone

from chaincode.rules import ApplicationStatus
from registry.holds import is_on_hold
from registry.models import (
    Certificate,
    Deregistration,
    Mortgage,
    RegistrationApplication,
    RegistrationPeriod,
    Vehicle,
)
from registry.records import latest_period


@dataclass(frozen=True)
class PublicRecord:
    """The answer to one question. ``verdict`` is one of:

    - ``registered``: a valid certificate and a current registration period;
    - ``expired``: a valid certificate whose registration period has ended;
    - ``superseded``: the certificate asked about was replaced by a newer one;
    - ``deregistered``: the LTO took the vehicle off the register for good (its last
      certificate is revoked; ``deregistration`` says when and why);
    - ``revoked``: the certificate asked about (or the vehicle's last one) was revoked;
    - ``not_registered``: an application that has not (yet) registered the vehicle.

    ``on_hold``: an office holds the vehicle (registry.holds); the public learns only that.
    """

    verdict: str
    vehicle: Vehicle
    application: RegistrationApplication | None
    certificate: Certificate | None
    period: RegistrationPeriod | None
    deregistration: Deregistration | None = None
    on_hold: bool = False
    # A chattel mortgage is annotated on the vehicle; to whom is not public.
    encumbered: bool = False


def public_record(query: str, *, today: date | None = None) -> PublicRecord | None:
    """The record a reference (TLN-…), a CR number (CR-…) or a plate names; None if none."""
    wanted = "".join(query.split()).upper()
    if not wanted:
        return None
    today = today or timezone.localdate()
    application = (
        RegistrationApplication.objects.select_related("vehicle").filter(reference=wanted).first()
    )
    if application is not None:
        return _about_application(application, today)
    certificate = (
        Certificate.objects.select_related("vehicle", "superseded_by").filter(number=wanted).first()
    )
    if certificate is not None:
        return _about_vehicle(certificate.vehicle, certificate, today)
    # Plates are written "NAA 1234", "NAA-1234" or "naa1234": compare letters and digits only.
    plate = wanted.replace("-", "")
    vehicle = (
        Vehicle.objects.annotate(
            bare_plate=Replace(Replace(Upper("plate_number"), Value(" ")), Value("-"))
        )
        .filter(bare_plate=plate)
        .first()
    )
    if vehicle is not None:
        return _about_vehicle(vehicle, _last_certificate(vehicle), today)
    return None


def _last_certificate(vehicle: Vehicle) -> Certificate | None:
    return vehicle.certificates.order_by("-issued_at", "-id").first()


def _about_application(application: RegistrationApplication, today: date) -> PublicRecord:
    if application.status != ApplicationStatus.APPROVED:
        return PublicRecord(
            verdict="not_registered",
            vehicle=application.vehicle,
            application=application,
            certificate=None,
            period=None,
            on_hold=is_on_hold(application.vehicle.vin),
        )
    # The certificate this application issued (a renewal issues none: the vehicle's last).
    certificate = application.certificates.order_by("-issued_at", "-id").first()
    record = _about_vehicle(
        application.vehicle, certificate or _last_certificate(application.vehicle), today
    )
    return PublicRecord(
        verdict=record.verdict,
        vehicle=application.vehicle,
        application=application,
        certificate=record.certificate,
        period=record.period,
        deregistration=record.deregistration,
        on_hold=record.on_hold,
        encumbered=record.encumbered,
    )


def _about_vehicle(vehicle: Vehicle, certificate: Certificate | None, today: date) -> PublicRecord:
    period = latest_period(vehicle)
    # Final, whichever of the vehicle's certificates was asked about.
    deregistration = Deregistration.objects.filter(vehicle=vehicle).first()
    if deregistration is not None:
        verdict = "deregistered"
    elif certificate is None or period is None:
        verdict = "not_registered"
    elif certificate.status == Certificate.Status.SUPERSEDED:
        verdict = "superseded"
    elif certificate.status == Certificate.Status.REVOKED:
        verdict = "revoked"
    else:
        verdict = "registered" if period.valid_to >= today else "expired"
    return PublicRecord(
        verdict=verdict,
        vehicle=vehicle,
        application=None,
        certificate=certificate,
        period=period,
        deregistration=deregistration,
        on_hold=is_on_hold(vehicle.vin),
        encumbered=verdict != "deregistered"
        and Mortgage.objects.filter(vehicle=vehicle, status=Mortgage.Status.ANNOTATED).exists(),
    )
