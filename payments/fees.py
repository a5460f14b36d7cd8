"""The fee computation: which of a schedule's rates an application is charged, and how much.

Pure arithmetic over the rates (no writes); ``payments.assessment`` stores the result.
Amounts are integers in centavos.

Vehicle class from the vehicle's body type (the MVUC's classes, RA 8794 §3(b)):

- sedan, hatchback → passenger car (weight bands by GVW)
- suv → SUV if its model year is 1991 or later, else an ordinary utility vehicle
  (LTO MC BGC-MC-01328's SUV definition)
- pickup, van → utility vehicle
- motorcycle → motorcycle without sidecar (Talaan records no sidecar)
- truck → truck, bus → bus (no confirmed rate: see the schedule)

A vehicle without a recorded GVW is charged its class's lowest band, and the assessment says
so: the LTO confirms the weight at inspection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from payments.models import FeeRate, VehicleClass
from registry.models import Vehicle

SUV_FROM_MODEL_YEAR = 1991

_CLASS_OF_BODY = {
    Vehicle.BodyType.SEDAN: VehicleClass.PRIVATE_CAR,
    Vehicle.BodyType.HATCHBACK: VehicleClass.PRIVATE_CAR,
    Vehicle.BodyType.SUV: VehicleClass.SUV,
    Vehicle.BodyType.PICKUP: VehicleClass.UTILITY_VEHICLE,
    Vehicle.BodyType.VAN: VehicleClass.UTILITY_VEHICLE,
    Vehicle.BodyType.MOTORCYCLE: VehicleClass.MOTORCYCLE,
    Vehicle.BodyType.TRUCK: VehicleClass.TRUCK,
    Vehicle.BodyType.BUS: VehicleClass.BUS,
}

GVW_MISSING_NOTE = "GVW not recorded: charged the lowest band; the LTO confirms at inspection."


def vehicle_class(body_type: str, model_year: int) -> str:
    cls = _CLASS_OF_BODY[Vehicle.BodyType(body_type)]
    if cls == VehicleClass.SUV and model_year < SUV_FROM_MODEL_YEAR:
        return VehicleClass.UTILITY_VEHICLE
    return cls


@dataclass(frozen=True)
class Line:
    code: str
    label: str
    amount_centavos: int
    source: str
    confirmed: bool


@dataclass
class Computed:
    lines: list[Line] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def total_centavos(self) -> int:
        return sum(line.amount_centavos for line in self.lines)


def _in_band(rate: FeeRate, gvw_kg: int) -> bool:
    low = rate.gvw_min_kg or 0
    return gvw_kg >= low and (rate.gvw_max_kg is None or gvw_kg <= rate.gvw_max_kg)


def _applies(rate: FeeRate, application_type: str, cls: str) -> bool:
    return application_type in rate.application_types and rate.vehicle_class in ("", cls)


def _lowest_band(rates: list[FeeRate]) -> FeeRate:
    return min(rates, key=lambda r: r.gvw_min_kg or 0)


def _pick(rates: list[FeeRate], gvw_kg: int | None) -> FeeRate | None:
    """The rate of the vehicle's weight band (the lowest band when the weight is unknown)."""
    if not rates:
        return None
    if gvw_kg is None:
        return _lowest_band(rates)
    banded = [r for r in rates if _in_band(r, gvw_kg)]
    return banded[0] if banded else None


def _amount(rate: FeeRate, gvw_kg: int | None, mvuc_centavos: int) -> int:
    if rate.rule == FeeRate.Rule.PER_KG_OVER:
        # Weight unknown: the band's own lowest weight (the lowest charge it can be).
        weight = gvw_kg if gvw_kg is not None else (rate.gvw_min_kg or 0)
        over = max(0, weight - (rate.threshold_kg or 0))
        return rate.amount_centavos + over * rate.per_kg_centavos
    if rate.rule == FeeRate.Rule.PERCENT_OF_MVUC:
        # Half-centavos round up: the LTO does not under-collect.
        return (mvuc_centavos * rate.percent + 99) // 100
    return rate.amount_centavos


def _label(rate: FeeRate, cls: str) -> str:
    label = rate.get_code_display()
    if rate.code == FeeRate.Code.MVUC:
        label = f"{label}: {VehicleClass(cls).label.lower()}"
        if rate.gvw_min_kg or rate.gvw_max_kg:
            low = f"{rate.gvw_min_kg:,}" if rate.gvw_min_kg else "0"
            high = f"{rate.gvw_max_kg:,} kg" if rate.gvw_max_kg else "kg and above"
            label = (
                f"{label}, GVW {low} to {high}" if rate.gvw_max_kg else f"{label}, GVW {low} {high}"
            )
    return label


# Charged only when a renewal is paid after its due date.
LATE_CODES = frozenset({FeeRate.Code.LATE_RENEWAL_PENALTY, FeeRate.Code.LATE_RENEWAL_SURCHARGE})


def compute(
    rates: Iterable[FeeRate],
    *,
    application_type: str,
    body_type: str,
    model_year: int,
    gvw_kg: int | None,
    late: bool,
) -> Computed:
    """The itemised charges: one line per fee code (the vehicle's band where banded); the
    percent-of-MVUC rules after the MVUC they depend on; late codes only when ``late``."""
    cls = vehicle_class(body_type, model_year)
    result = Computed()
    if gvw_kg is None and cls != VehicleClass.MOTORCYCLE:
        result.notes.append(GVW_MISSING_NOTE)
    by_code: dict[str, list[FeeRate]] = {}
    for rate in rates:
        if _applies(rate, application_type, cls) and (late or rate.code not in LATE_CODES):
            by_code.setdefault(rate.code, []).append(rate)
    mvuc = 0
    ordered = sorted(
        by_code,
        key=lambda c: (
            by_code[c][0].rule == FeeRate.Rule.PERCENT_OF_MVUC,
            list(FeeRate.Code.values).index(c),
        ),
    )
    for code in ordered:
        chosen = _pick(by_code[code], gvw_kg)
        if chosen is None:
            result.notes.append(
                f"{FeeRate.Code(code).label}: no rate in the schedule for this vehicle's weight; "
                "the LTO assesses it at the office."
            )
            continue
        amount = _amount(chosen, gvw_kg, mvuc)
        if code == FeeRate.Code.MVUC:
            mvuc = amount
        result.lines.append(
            Line(code, _label(chosen, cls), amount, chosen.source, chosen.confirmed)
        )
    if application_type != "transfer" and FeeRate.Code.MVUC not in by_code:
        result.notes.append(
            f"No MVUC rate in the schedule for a {VehicleClass(cls).label.lower()}; the LTO "
            "assesses it at the office."
        )
    return result


def pesos(centavos: int) -> str:
    """₱1,600.00 from 160000."""
    return f"₱{centavos // 100:,}.{centavos % 100:02d}"


def in_force(schedule_from: dt.date, schedule_to: dt.date | None, day: dt.date) -> bool:
    return schedule_from <= day and (schedule_to is None or day <= schedule_to)
