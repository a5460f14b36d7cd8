"""The apps that take part in an application's life, and what registry asks of them.

Registry sits below the apps that work on its applications (clearance sends each one to the
organisations that must clear it) and never imports them. Such an app registers one
``ApplicationParticipant`` when Django starts (``AppConfig.ready``); registry asks every
registered participant at the points named here, inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from django.db.models import BooleanField, Exists, ExpressionWrapper, Prefetch, Q, Value

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from organisations.access import Caller
    from registry.models import RegistrationApplication


@dataclass
class PagePart:
    """A participant's part of an application's page."""

    context: dict[str, Any]  # merged into the page's template context
    changes: list[Any] = field(default_factory=list)  # recorded changes whose receipts it shows
    # Its steps in the application's progress (registry.progress.Step), in order, shown
    # between the LTO's review and its approval.
    steps: list[Any] = field(default_factory=list)


class ApplicationParticipant(Protocol):
    def application_prefetches(self) -> list[Prefetch]:
        """What the participant's part of an application list reads, fetched with it."""
        ...

    def history_prefetches(self) -> list[Prefetch]:
        """The recorded changes of the participant's parts, for ``latest_changes``."""
        ...

    def latest_changes(self, applications: Iterable[RegistrationApplication]) -> list[Any]:
        """The latest recorded change of each part, read from ``history_prefetches``."""
        ...

    def overdue(self, now: datetime) -> Exists:
        """Whether an application (``OuterRef("pk")``) has work past its deadline."""
        ...

    def application_page(self, *, caller: Caller, application: RegistrationApplication) -> PagePart:
        """What the application's page shows of the participant's work, for this caller."""
        ...

    def statuses(self, *, caller: Caller, application: RegistrationApplication) -> list[Any]:
        """The parts the caller may see, each with its ``latest_change``, for the API."""
        ...

    def status_version(self, *, caller: Caller) -> dict[str, Any]:
        """Annotations on applications (``OuterRef("pk")``) whose values change whenever what
        ``statuses`` shows this caller changes: the status lookup's ETag, read without
        rendering. Names are the participant's own, unique among participants."""
        ...

    def applications_visible_to(self, organisation_ids: list[int]) -> Q:
        """The applications the people of these organisations may see."""
        ...

    def people_concerned(self, application_id: int) -> set[int]:
        """Users, besides the owner and LTO staff, whose open pages show this application."""
        ...

    def has_live_work(self, application: RegistrationApplication) -> bool:
        """Whether the participant still works on the application (a resubmission then
        goes back to it rather than to the LTO's first review)."""
        ...

    def application_resubmitted(self, *, application: RegistrationApplication, actor: User) -> None:
        """The owner filed the (locked) application again with corrections."""
        ...

    def application_closed(
        self, *, application: RegistrationApplication, actor: User, reason: str
    ) -> None:
        """The (locked) application was withdrawn or rejected: stop working on it."""
        ...

    def approval_refusal(self, application: RegistrationApplication) -> str | None:
        """Why the LTO may not approve the (locked) application now, or None if nothing of
        the participant's stands in the way (asked before the approval changes anything)."""
        ...


_participants: list[ApplicationParticipant] = []


def register(participant: ApplicationParticipant) -> None:
    """Called once per app from its ``AppConfig.ready``; registering again changes nothing."""
    if not any(type(existing) is type(participant) for existing in _participants):
        _participants.append(participant)


def participants() -> tuple[ApplicationParticipant, ...]:
    return tuple(_participants)


def applications_visible_to(organisation_ids: list[int]) -> Q:
    """Applications any participant shows to these organisations' people; none by default."""
    visible = Q(pk__in=[])
    for participant in _participants:
        visible |= participant.applications_visible_to(organisation_ids)
    return visible


def application_prefetches() -> list[Prefetch]:
    return [prefetch for p in _participants for prefetch in p.application_prefetches()]


def people_concerned(application_id: int) -> set[int]:
    return {user_id for p in _participants for user_id in p.people_concerned(application_id)}


def history_prefetches() -> list[Prefetch]:
    return [prefetch for p in _participants for prefetch in p.history_prefetches()]


def latest_changes(applications: Iterable[RegistrationApplication]) -> list[Any]:
    applications = list(applications)
    return [change for p in _participants for change in p.latest_changes(applications)]


def overdue(now: datetime) -> Exists | ExpressionWrapper | Value:
    """An annotation: whether any participant's work on the application is overdue."""
    conditions = [p.overdue(now) for p in _participants]
    if not conditions:
        return Value(False)
    if len(conditions) == 1:
        return conditions[0]
    combined = Q(conditions[0])
    for condition in conditions[1:]:
        combined |= Q(condition)
    return ExpressionWrapper(combined, output_field=BooleanField())


def application_page(*, caller: Caller, application: RegistrationApplication) -> PagePart:
    """Every participant's part of the page, merged."""
    merged = PagePart(context={})
    for participant in _participants:
        part = participant.application_page(caller=caller, application=application)
        merged.context.update(part.context)
        merged.changes.extend(part.changes)
        merged.steps.extend(part.steps)
    return merged


def approval_refusals(application: RegistrationApplication) -> list[str]:
    """Every participant's reason to refuse approving the application now (empty: none)."""
    return [
        refusal
        for participant in _participants
        if (refusal := participant.approval_refusal(application)) is not None
    ]


def statuses(*, caller: Caller, application: RegistrationApplication) -> list[Any]:
    return [s for p in _participants for s in p.statuses(caller=caller, application=application)]


def status_version(*, caller: Caller) -> dict[str, Any]:
    return {
        name: value
        for p in _participants
        for name, value in p.status_version(caller=caller).items()
    }
