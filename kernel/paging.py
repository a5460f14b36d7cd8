"""Page lists that stay cheap however long they grow: a capped count, deep pages by id.

Django's Paginator counts every matching row and reads a page with ``OFFSET`` over the full
query (its joins and annotations included), so page 500 of a million applications took
413 ms and every first page paid a full count (issue 17). Here the count stops at ``cap``
(shown as "10,000+"), a deep page's ids are skipped and read in the lean query alone (an index
scan where the ordering has an index), and only the page's rows are then read in full.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import QuerySet

COUNT_CAP = 10_000
# Rows skipped below which a page is read in one query: OFFSET costs little there.
SHALLOW = 500


class LeanPage(Page):
    """A page that knows whether another follows without counting to the end."""

    def __init__(
        self, object_list: list[Any], number: int, paginator: LeanPaginator, has_next: bool
    ) -> None:
        super().__init__(object_list, number, paginator)
        self._has_next = has_next

    def has_next(self) -> bool:
        return self._has_next

    def next_page_number(self) -> int:
        if not self._has_next:
            raise EmptyPage("That page contains no results")
        return self.number + 1


class LeanPaginator(Paginator):
    """A Paginator over a queryset whose count stops at ``cap`` and whose deep pages cost
    the skipped ids only; ``num_pages_label`` reads "400+" when the count was capped."""

    def __init__(self, object_list: QuerySet, per_page: int, cap: int | None = None) -> None:
        super().__init__(object_list, per_page)
        self.queryset = object_list
        self.cap = COUNT_CAP if cap is None else cap
        self._count: int | None = None

    @property
    def count(self) -> int:
        if self._count is None:
            # COUNT(*) over a LIMITed subquery: at most cap + 1 index entries are read.
            self._count = self.queryset.values("pk")[: self.cap + 1].count()
        return min(self._count, self.cap)

    @property
    def count_capped(self) -> bool:
        self.count  # noqa: B018 (reads and caches the count)
        assert self._count is not None
        return self._count > self.cap

    @property
    def count_label(self) -> str:
        return f"{self.count:,}+" if self.count_capped else f"{self.count:,}"

    @property
    def num_pages_label(self) -> str:
        return f"{self.num_pages:,}+" if self.count_capped else f"{self.num_pages:,}"

    def validate_number(self, number: Any) -> int:
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("That page number is not an integer") from None
        if number < 1:
            raise EmptyPage("That page number is less than 1")
        # Past a capped count the pages are not counted: a page is there if it has rows.
        if number > self.num_pages and not self.count_capped:
            if number == 1 and self.allow_empty_first_page:
                return number
            raise EmptyPage("That page contains no results")
        return number

    def page(self, number: Any) -> LeanPage:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        # One row more than the page tells whether another page follows.
        top = bottom + self.per_page + 1
        if self.count == 0:
            rows = []
        elif bottom < SHALLOW:
            rows = list(self.queryset[bottom:top])
        else:
            ids = list(self.queryset.values_list("pk", flat=True)[bottom:top])
            by_id = {row.pk: row for row in self.queryset.filter(pk__in=ids)}
            rows = [by_id[pk] for pk in ids if pk in by_id]
        if not rows and number > 1:
            raise EmptyPage("That page contains no results")
        return LeanPage(rows[: self.per_page], number, self, len(rows) > self.per_page)
