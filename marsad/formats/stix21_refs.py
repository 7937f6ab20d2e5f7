"""STIX relationships, sightings and object refs for `stix21`: edges between the observables
that indicators and SCOs became (one edge per observable), or the STIX ids themselves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from marsad.formats.stix21_decode import compact as _compact
from marsad.model.handling import Handling
from marsad.model.observable import Observable
from marsad.model.records import Record, Rejected, RelationshipRecord

SCOEdge = tuple[list[str], str, list[Any], str, Handling | None]


class RefReader:
    """The SRO half of a parse; the parser that uses it fills the indexes."""

    ind_obs: dict[str, list[Observable]]
    sco_obs: dict[str, list[Observable]]
    sco_edges: list[SCOEdge]

    def _time(self, value: Any) -> dt.datetime | None:
        raise NotImplementedError

    def _dict_handling(self, o: dict[str, Any]) -> Handling | None:
        raise NotImplementedError

    def _sco_edges(self) -> Iterator[Record]:
        for sources, rel, targets, loc, handling in self.sco_edges:
            for target in targets:
                for s in sources:
                    for t in self._expand(target):
                        yield RelationshipRecord(
                            source_ref=s, target_ref=t, type=rel, location=loc, handling=handling
                        )

    def _expand(self, ref: Any) -> list[str]:
        """The refs a STIX id stands for: observables for indicators and SCOs, else itself."""
        ref = str(ref)
        found = self.ind_obs.get(ref) or self.sco_obs.get(ref)
        return [f.ref for f in found] if found else [ref]

    def _edges(
        self, o: dict[str, Any], loc: str, source: Any, target: Any, rel: str, **kw: Any
    ) -> Iterator[Record]:
        handling = self._dict_handling(o)
        oid = o.get("id")
        for s in self._expand(source):
            for t in self._expand(target):
                yield RelationshipRecord(
                    source_ref=s,
                    target_ref=t,
                    type=rel,
                    location=loc,
                    stix_id=oid,
                    handling=handling,
                    **kw,
                )

    def _relationship(self, o: dict[str, Any], loc: str) -> Iterator[Record]:
        src, tgt, rel = o.get("source_ref"), o.get("target_ref"), o.get("relationship_type")
        if not (isinstance(src, str) and isinstance(tgt, str) and isinstance(rel, str)):
            reason = "relationship without source_ref, target_ref or relationship_type"
            yield Rejected(location=loc, reason=reason, raw=_compact(o))
            return
        attrs = {k: o[k] for k in ("description", "confidence", "created_by_ref") if k in o}
        first, last = self._time(o.get("start_time")), self._time(o.get("stop_time"))
        yield from self._edges(
            o, loc, src, tgt, rel, first_seen=first, last_seen=last, attributes=attrs
        )

    def _sighting(self, o: dict[str, Any], loc: str) -> Iterator[Record]:
        target = o.get("sighting_of_ref")
        if not isinstance(target, str):
            yield Rejected(location=loc, reason="sighting without sighting_of_ref", raw=_compact(o))
            return
        where = o.get("where_sighted_refs") or [None]
        source = where[0] or o.get("created_by_ref") or o.get("id")
        attrs = {"count": o.get("count", 1)}
        for k in ("where_sighted_refs", "observed_data_refs", "summary", "description"):
            if k in o:
                attrs[k] = o[k]
        first, last = self._time(o.get("first_seen")), self._time(o.get("last_seen"))
        yield from self._edges(
            o,
            loc,
            source,
            target,
            "sighting-of",
            first_seen=first,
            last_seen=last,
            attributes=attrs,
        )

    def _object_refs(self, o: dict[str, Any], rel: str, loc: str) -> Iterator[Record]:
        attrs = {"count": o["number_observed"]} if "number_observed" in o else {}
        first = self._time(o.get("first_observed"))
        last = self._time(o.get("last_observed"))
        for target in o.get("object_refs") or ():
            yield from self._edges(
                o,
                loc,
                o["id"],
                target,
                rel,
                first_seen=first,
                last_seen=last,
                attributes=attrs,
            )
