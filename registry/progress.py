"""The steps of an application as its owner follows them: what is done, what is next, and who
is doing it, with the time a step usually takes where the data can tell.

Registry knows its own steps (filing, the LTO's review, the approval, collecting the plate);
the apps that take part in an application (``registry.participants``) add theirs between the
review and the approval through their page part's ``progress_steps``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from chaincode.rules import ApplicationStatus
from registry.models import RegistrationApplication

DONE, CURRENT, WAITING, STOPPED = "done", "current", "waiting", "stopped"


@dataclass(frozen=True)
class Step:
    title: str
    who: str
    state: str  # DONE, CURRENT (someone is on it now), WAITING (later), STOPPED
    note: str = ""
    expected: str = ""  # "usually about 2 days (median of 14 decided requests)"
    is_next: bool = False  # the first step still waiting, once nothing is under way


def usual_duration(median: timedelta | None, count: int) -> str:
    """How long a step usually takes, said plainly, from a median of ``count`` cases."""
    if median is None or count == 0:
        return ""
    hours = median.total_seconds() / 3600
    if hours < 1:
        took = _("under an hour")
    elif hours < 48:
        took = ngettext("about %(n)d hour", "about %(n)d hours", round(hours)) % {"n": round(hours)}
    else:
        days = round(hours / 24)
        took = ngettext("about %(n)d day", "about %(n)d days", days) % {"n": days}
    return ngettext(
        "usually %(took)s (the median of %(count)d decided request)",
        "usually %(took)s (the median of %(count)d decided requests)",
        count,
    ) % {"took": took, "count": count}


_S = ApplicationStatus
_FILED = {_S.SUBMITTED, _S.UNDER_REVIEW, _S.AWAITING_CLEARANCES, _S.CLEARED, _S.APPROVED}
_REVIEWED = {_S.AWAITING_CLEARANCES, _S.CLEARED, _S.APPROVED}


def application_steps(
    application: RegistrationApplication, participant_steps: list[Step]
) -> list[Step]:
    """Every step of the application in order, each in its state now."""
    status = application.status
    office = application.office.name if application.office else _("the LTO")
    closed = status in {_S.REJECTED, _S.CANCELLED}
    steps = [
        Step(
            _("Add your documents and file the application"),
            _("You"),
            DONE if status in _FILED else STOPPED if closed else CURRENT,
            _("Returned to you: correct it and file it again.") if status == _S.RETURNED else "",
        ),
        Step(
            _("The LTO reviews the application"),
            office,
            DONE
            if status in _REVIEWED
            else CURRENT
            if status in {_S.SUBMITTED, _S.UNDER_REVIEW}
            else STOPPED
            if closed
            else WAITING,
        ),
        *participant_steps,
        Step(
            _("The LTO approves the registration"),
            office,
            DONE
            if status == _S.APPROVED
            else CURRENT
            if status == _S.CLEARED
            else STOPPED
            if closed
            else WAITING,
            _("Every check has passed; the fees must be paid before approval.")
            if status == _S.CLEARED
            else "",
        ),
        Step(
            _collect_title(application),
            _("You"),
            CURRENT if status == _S.APPROVED else STOPPED if closed else WAITING,
        ),
    ]
    return _mark_next(steps)


def _mark_next(steps: list[Step]) -> list[Step]:
    """Mark the step that comes next: the first waiting one after the last done or current."""
    started = [i for i, step in enumerate(steps) if step.state in (DONE, CURRENT)]
    after = started[-1] + 1 if started else 0
    for i in range(after, len(steps)):
        if steps[i].state == WAITING:
            steps[i] = replace(steps[i], is_next=True)
            break
    return steps


def _collect_title(application: RegistrationApplication) -> str:
    if application.type == RegistrationApplication.Type.NEW:
        return _("Collect your plate and download the certificate")
    return _("Download the certificate")


def next_after_approval(application: RegistrationApplication) -> dict[str, Any] | None:
    """What the owner does once the registration is approved: where to go and what to bring."""
    if application.status != _S.APPROVED:
        return None
    office = application.office.name if application.office else _("your LTO office")
    bring = [
        _("this certificate of registration, printed or on your phone"),
        _("the official receipt of your payment"),
        _("a valid government ID"),
    ]
    if application.type == RegistrationApplication.Type.NEW:
        return {
            "heading": _("What next: collect your plate"),
            "lead": _("Go to %(office)s to collect your plate and registration sticker.")
            % {"office": office},
            "bring": bring,
        }
    return {
        "heading": _("What next"),
        "lead": _(
            "Download the certificate and keep it in the vehicle: it is what an enforcer asks for."
        ),
        "bring": [],
    }
