"""A public awareness advisory: TLP:CLEAR content only, built with the public's grant.

The prose comes from `advisory_text`; the example indicators are statements about the
threat that the *public* viewer may see (TLP:CLEAR, within retention, not revoked), read
with `grant_for(PUBLIC)` and `visible` in SQL like every other read path, and defanged so
that a reader cannot click them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from sqlalchemy import func, select

from marsad.access import audit
from marsad.access.policy import OPERATOR, PUBLIC, grant_for
from marsad.model.errors import MarsadError
from marsad.products.advisory_text import ADVICE, Advice, in_language
from marsad.products.language import DEFAULT, checked
from marsad.store.schema import assertions, observables
from marsad.store.store import Store
from marsad.store.visibility import visible


class Example(msgspec.Struct, frozen=True, kw_only=True):
    """One publishable indicator, defanged."""

    type: str
    value: str  # defanged
    last_seen: dt.datetime | None


class Advisory(msgspec.Struct, frozen=True, kw_only=True):
    """The advisory; always TLP:CLEAR."""

    threat: str
    advice: Advice
    issuer: str
    generated_at: dt.datetime
    examples: tuple[Example, ...]
    assertion_ids: tuple[int, ...]
    tlp: str = "TLP:CLEAR"


def defang(kind: str, value: str) -> str:
    """A value that cannot be clicked or resolved by accident (hxxp, [.], [@])."""
    text = value.replace("http://", "hxxp://").replace("https://", "hxxps://")
    if kind in ("ipv4", "ipv6", "domain", "url", "email"):
        head, sep, rest = text.partition("://")
        text = head + sep + rest.replace(".", "[.]") if sep else text.replace(".", "[.]")
        text = text.replace("@", "[@]")
    return text


def build_advisory(
    store: Store,
    threat: str,
    *,
    examples: int = 5,
    issuer: str = "Marsad",
    now: dt.datetime | None = None,
    lang: str = DEFAULT,
) -> Advisory:
    """The advisory for a threat type with up to ``examples`` public indicators (audited),
    its advice in ``lang``."""
    lang = checked(lang)
    advice = ADVICE.get(threat)
    if advice is None:
        raise MarsadError(
            f"no advisory text for threat {threat!r}: available are {', '.join(sorted(ADVICE))}"
        )
    now = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    grant = grant_for(PUBLIC, now.date())
    a, o = assertions.c, observables.c
    seen = func.max(a.last_seen)
    query = (
        select(o.type, o.value, seen.label("seen"), func.min(a.id).label("aid"))
        .join(observables, o.id == a.observable_id)
        .where(a.threat_type == threat, a.revoked_at.is_(None), visible(grant, assertions))
        .group_by(o.id, o.type, o.value)
        .order_by(func.sum(a.sightings).desc(), seen.desc(), o.value)
        .limit(examples)
    )
    with store.engine.connect() as conn:
        rows: list[Any] = list(conn.execute(query))
    found = tuple(
        Example(type=r.type, value=defang(r.type, r.value), last_seen=r.seen) for r in rows
    )
    ids = tuple(sorted(int(r.aid) for r in rows))
    audit.record(store, OPERATOR, "report-advisory", threat, purpose="prevention-and-awareness",
                 details={"recipient": PUBLIC.label, **audit.id_summary(list(ids))})  # fmt: skip
    return Advisory(threat=threat, advice=in_language(advice, lang), issuer=issuer, generated_at=now,
                    examples=found, assertion_ids=ids)  # fmt: skip
