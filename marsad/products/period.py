"""Reporting periods: ``2026-10`` (a month), ``2026-Q3`` (a quarter), ``2026`` (a year) or
``2026-10-01..2026-10-15`` (inclusive days). Pure."""

from __future__ import annotations

import datetime as dt
import re

import msgspec

from marsad.model.errors import MarsadError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


class Period(msgspec.Struct, frozen=True, kw_only=True):
    """A half-open UTC interval ``[start, end)`` and how the user wrote it."""

    label: str
    start: dt.datetime
    end: dt.datetime

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _month_start(year: int, month: int) -> dt.date:
    return dt.date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def parse_period(text: str) -> Period:
    """The period a label names; a clear error for anything else."""
    label = text.strip()
    try:
        if m := _MONTH.match(label):
            year, month = int(m[1]), int(m[2])
            if not 1 <= month <= 12:
                raise ValueError(f"there is no month {month}")
            return Period(label=label, start=_at(_month_start(year, month)),
                          end=_at(_month_start(year, month + 1)))  # fmt: skip
        if m := _QUARTER.match(label):
            year, first = int(m[1]), 3 * int(m[2]) - 2
            return Period(label=label.upper(), start=_at(_month_start(year, first)),
                          end=_at(_month_start(year, first + 3)))  # fmt: skip
        if m := _YEAR.match(label):
            year = int(m[1])
            return Period(label=label, start=_at(dt.date(year, 1, 1)),
                          end=_at(dt.date(year + 1, 1, 1)))  # fmt: skip
        if ".." in label:
            lo, hi = (dt.date.fromisoformat(p) for p in label.split("..", 1))
            if hi < lo:
                raise ValueError("the period ends before it starts")
            return Period(label=label, start=_at(lo), end=_at(hi + dt.timedelta(days=1)))
    except ValueError as exc:
        raise MarsadError(f"period {text!r} is not a valid date range: {exc}") from None
    raise MarsadError(
        f"period {text!r} is not understood: use 2026-10, 2026-Q3, 2026 or 2026-10-01..2026-10-15"
    )


def _step(period: Period) -> str:
    return "day" if period.days <= 62 else "week" if period.days <= 366 else "month"


def bucket_of(period: Period, when: dt.datetime | None) -> str:
    """The chart bucket (day, week or month, by the period's length) a moment falls in;
    moments outside the period count at its nearest edge."""
    at = period.start if when is None or when < period.start else when
    at = min(at, period.end - dt.timedelta(seconds=1))
    day = at.date()
    step = _step(period)
    if step == "week":
        day = max(day - dt.timedelta(days=day.weekday()), period.start.date())
    elif step == "month":
        day = day.replace(day=1)
    return day.isoformat()


def buckets(period: Period) -> list[str]:
    """Every bucket of the period in order, so quiet days show as zero."""
    seen: dict[str, None] = {}
    day = period.start
    while day < period.end:
        seen[bucket_of(period, day)] = None
        day += dt.timedelta(days=1)
    return list(seen)


def over_time(period: Period, moments: list[dt.datetime | None]) -> dict[str, int]:
    """How many moments fall in each bucket of the period (zeros included)."""
    counts = dict.fromkeys(buckets(period), 0)
    for when in moments:
        counts[bucket_of(period, when)] += 1
    return counts
