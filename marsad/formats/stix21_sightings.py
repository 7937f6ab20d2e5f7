"""Bulk-match hits as a STIX 2.1 bundle of sightings.

Each hit assertion is exported as the indicator `stix21_export` would give it (same
deterministic id, TLP 2.0 marking and handling extension), and one ``sighting`` says that
the matching organisation saw it ``count`` times. A sighting is marked like the indicator
it refers to: it tells a reader that this indicator was seen, so it is at least as
sensitive as the indicator itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from marsad.formats.stix21_export import _Bundle, _uid  # the export's ids and markings
from marsad.model.records import AssertionView


def sightings_bundle(
    seen: Iterable[tuple[AssertionView, int]],
    *,
    observer: str,
    now: dt.datetime,
    description: str | None = None,
) -> bytes:
    """A serialised bundle: per (assertion, count), its indicator and the observer's sighting."""
    bundle = _Bundle(observer, now)
    for view, count in seen:
        bundle.indicator(view)
        indicator_id = str(bundle.objects[-1]["id"])
        sighting: dict[str, object] = {
            "type": "sighting",
            "spec_version": "2.1",
            "id": "sighting--" + _uid("sighting", observer, indicator_id, bundle.now_ms),
            "created_by_ref": bundle.producer_ref,
            "created": bundle.now_ms,
            "modified": bundle.now_ms,
            "sighting_of_ref": indicator_id,
            "where_sighted_refs": [bundle.producer_ref],
            "count": min(count, 999_999_999),
        }
        if description:
            sighting["description"] = description
        bundle.objects.append(bundle.handled(view.handling, sighting))
    return bundle.serialise()
