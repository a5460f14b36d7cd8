"""Plates issued in sequence from the LTO's plate inventory (registry.models.PlateSeries).

An approval takes the next plate of the series held for its office's region, the vehicle's
class (car or motorcycle) and its classification: never at random, never twice. The series row
is locked for the rest of the approval's transaction. This is one of the few places where a
row shared by many writers is right: the LTO issues plates "in strict numerical sequence" on
a first-in first-out basis (LTO memorandum, 18 Sep 2014), so two approvals must not read the
same next number, and a number must come back when its approval rolls back (the ledger
refused, a check failed). A counter updated in the approval's own transaction gives both; the
price is that approvals of one region and class wait for each other's commit, a fair price at
the pace LTO staff approve registrations.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from kernel.errors import Conflict
from organisations.models import Office
from registry.models import PlateSeries, RegistrationApplication, Vehicle

logger = logging.getLogger(__name__)


class NoPlatesLeft(Conflict):
    """The region has no plate left for the vehicle's class: trying again does not help until
    the LTO adds a series."""

    retryable = False


def vehicle_class_of(vehicle: Vehicle) -> str:
    """The plate class of a vehicle: motorcycles have their own plates, the rest car plates."""
    if vehicle.body_type == Vehicle.BodyType.MOTORCYCLE:
        return PlateSeries.VehicleClass.MOTORCYCLE
    return PlateSeries.VehicleClass.CAR


def _office_of(application: RegistrationApplication) -> Office | None:
    # An application from before offices existed has none: it counts as filed at the office
    # new applications default to (registry.models.default_office_id).
    if application.office_id is not None:
        return application.office
    return Office.objects.filter(is_active=True).order_by("code").first()


def _series_for(region: str, vehicle: Vehicle) -> QuerySet[PlateSeries]:
    return PlateSeries.objects.filter(
        region__iexact=region,
        vehicle_class=vehicle_class_of(vehicle),
        classification=vehicle.classification,
        is_active=True,
    ).order_by("pk")


def _none_left(region: str, vehicle: Vehicle) -> str:
    kind = Vehicle.Classification(vehicle.classification).label.lower()
    klass = PlateSeries.VehicleClass(vehicle_class_of(vehicle)).name.lower()
    return (
        f"No plates left in the {region} {kind} {klass} series: the LTO adds a series in the admin."
    )


def _region_or_refuse(application: RegistrationApplication) -> str:
    office = _office_of(application)
    if office is None:
        raise Conflict(
            _(
                "The application names no LTO office, so no plate series can be chosen: the "
                "LTO adds its offices in the admin."
            )
        )
    return office.region


def plate_issue(*, application: RegistrationApplication, vehicle: Vehicle) -> str:
    """The next plate of the vehicle's series, taken: call inside the approval's transaction.

    A plate of the series a vehicle already has (chosen by hand by LTO staff) is skipped and
    noted on the series. A series used up gives way to the region's next one; with none left
    the approval is refused with a Conflict, and the rollback undoes every skip.
    """
    region = _region_or_refuse(application)
    # Every candidate series is locked in pk order (the style's rule for several rows), not
    # only the first: a LIMIT under FOR UPDATE may come back empty when the first series is
    # used up by the approval that held the lock, though a next series is there.
    for series in _series_for(region, vehicle).select_for_update():
        skipped: list[str] = []
        plate = None
        while plate is None and series.next_number <= series.last_number:
            candidate = series.plate(series.next_number)
            series.next_number += 1
            if Vehicle.objects.filter(plate_number=candidate).exists():
                skipped.append(candidate)
            else:
                plate = candidate
        if skipped:
            logger.warning(
                "Plates %s of series %s skipped: a vehicle already has them.", skipped, series.pk
            )
            series.skipped = "\n".join(filter(None, [series.skipped, *skipped]))
        series.save(update_fields=["next_number", "skipped", "updated_at"])
        if plate is not None:
            return plate
    raise NoPlatesLeft(_none_left(region, vehicle))


@dataclass(frozen=True)
class PlateOutlook:
    """What the approve form tells LTO staff about the plate an approval would issue."""

    plate: str | None
    message: str


def plate_outlook(application: RegistrationApplication) -> PlateOutlook:
    """The plate the application's approval would issue now, read without a lock (another
    approval may take it first: the approval issues the next one then)."""
    vehicle = application.vehicle
    if vehicle.plate_number:
        return PlateOutlook(
            vehicle.plate_number, f"The vehicle keeps plate {vehicle.plate_number}."
        )
    office = _office_of(application)
    if office is None:
        return PlateOutlook(None, "No plate can be issued: the application names no office.")
    for series in _series_for(office.region, vehicle):
        for number in range(series.next_number, series.last_number + 1):
            plate = series.plate(number)
            if not Vehicle.objects.filter(plate_number=plate).exists():
                return PlateOutlook(
                    plate,
                    f"Plate {plate} will be issued, the next of the series {series} "
                    f"({series.remaining} left), unless you enter a plate below.",
                )
    return PlateOutlook(None, _none_left(office.region, vehicle))
