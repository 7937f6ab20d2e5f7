"""Correlation: what other sources, submissions, cases and countries say about one value.

Nothing here is materialised: the store answers with grouped joins over the value index
(`marsad.store.correlation_reads`), for one value or for every value at once, and this
module holds the pure parts: the shapes of the answer and the over-correlation rule.

A value is *over-correlating* when it links everything rather than one operation: it is
on a warninglist (public resolvers, CDNs, big sites), or it appears in more than
``max_submissions`` distinct submissions. Such values are flagged in every answer and
kept out of clustering (they become hubs), so one popular address cannot merge every
network that mentions it. Counts are taken over what the viewer may see, so the flag
never reveals records the viewer may not see.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import numpy as np

Array = np.ndarray[Any, Any]

DEFAULT_MAX_SUBMISSIONS = 50


class CorrelationRule(msgspec.Struct, frozen=True, kw_only=True):
    """When a value counts as over-correlating."""

    max_submissions: int = DEFAULT_MAX_SUBMISSIONS


class Counts(msgspec.Struct, frozen=True, kw_only=True):
    """Distinct things that say something about one value (visible records only)."""

    assertions: int = 0
    sources: int = 0
    submissions: int = 0
    countries: int = 0
    cases: int = 0


class Said(msgspec.Struct, frozen=True, kw_only=True):
    """One visible assertion about the value, with where it came from."""

    assertion_id: int
    source: str
    country: str | None
    threat_type: str
    tlp: str
    pap: str
    grading: str
    first_seen: dt.datetime | None
    last_seen: dt.datetime | None
    submissions: list[int]
    own: bool  # the viewer is its source or owner


class AskOwner(msgspec.Struct, frozen=True, kw_only=True):
    """A record the viewer may not see, disclosed by its owner's choice: only who to ask."""

    owner: str
    note: str


class Correlation(msgspec.Struct, frozen=True, kw_only=True):
    """Everything one viewer may learn about one observable across the pool."""

    type: str
    value: str
    counts: Counts
    said: list[Said]
    entities: list[str]  # cases, campaigns, actors linked by visible relationships
    countries: list[str]
    flags: list[str]  # why the value over-correlates (empty: it does not)
    ask_owner: list[AskOwner]


class TopRow(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the most-correlated list."""

    type: str
    value: str
    counts: Counts
    flags: list[str]


def ask_note(owner: str) -> str:
    """The only words a disclosed record shows."""
    return f"a record exists: ask {owner}"


def over_correlated(submissions: Array, warninglisted: Array, rule: CorrelationRule) -> Array:
    """Per value: on a warninglist, or in more submissions than the rule allows."""
    return np.asarray(warninglisted, dtype=bool) | (
        np.asarray(submissions, dtype=np.int64) > rule.max_submissions
    )


def flags_of(submissions: int, lists: list[str], rule: CorrelationRule) -> list[str]:
    """The reasons a value over-correlates, in words."""
    found = [f"on warninglist {name!r}" for name in lists]
    if submissions > rule.max_submissions:
        found.append(f"in {submissions} submissions (over {rule.max_submissions})")
    return found
