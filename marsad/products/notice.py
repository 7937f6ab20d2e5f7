"""A modus-operandi notice: a new criminal method described from a cluster, for members.

In the spirit of a purple notice: method, targets, tools and infrastructure, indicators,
countermeasures, issuing organisation and handling. The prose comes from a small JSON or
YAML file (or a generated default); the facts come from the cluster, read through the
issuer's grant: only members linked by evidence the issuer may see (`networks`), only
visible statements and relationships. The notice's TLP is the most restrictive of what
it contains, never below the floor the file asks for.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import select

from marsad.access import audit
from marsad.access.policy import Grant, Role, Viewer, grant_for
from marsad.enrich.geo import country_codes
from marsad.model.errors import MarsadError
from marsad.model.handling import PAP, TLP
from marsad.model.records import AssertionView, RelationshipRecord
from marsad.products import language
from marsad.products.language import DEFAULT, checked, gettext
from marsad.products.networks import networks, read_graph
from marsad.store.schema import assertions, cluster_members, observables, relationships
from marsad.store.store import Store, _assertion_query, _stored, handling_of
from marsad.store.visibility import visible


class NoticeText(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The analyst's prose; every field optional except the method."""

    method: str
    title: str | None = None
    targets: str = ""
    tools: str = ""
    countermeasures: list[str] = msgspec.field(default_factory=list)
    tlp: str | None = None  # a floor, e.g. "amber"
    pap: str | None = None


class Indicator(msgspec.Struct, frozen=True, kw_only=True):
    """One visible statement about a member of the cluster."""

    type: str
    value: str
    threat_type: str
    source: str
    grading: str
    tlp: str
    pap: str
    last_seen: dt.datetime | None


class Link(msgspec.Struct, frozen=True, kw_only=True):
    """One visible relationship among the members: how the infrastructure hangs together."""

    source: str
    type: str
    target: str


class Notice(msgspec.Struct, frozen=True, kw_only=True):
    """The notice as data; the JSON twin of its HTML, PDF and STIX forms."""

    cluster: int
    title: str
    issuer: str
    generated_at: dt.datetime
    tlp: str
    pap: str
    text: NoticeText
    threat_types: dict[str, int]
    hosting_countries: dict[str, int]
    indicators: tuple[Indicator, ...]
    infrastructure: tuple[Link, ...]
    assertion_ids: tuple[int, ...]


def load_text(path: Path) -> NoticeText:
    """Read the prose from JSON or YAML; a clear error naming the file and the problem."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MarsadError(f"cannot read {path}: {exc.strerror}") from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data: Any = yaml.safe_load(raw)
        else:
            data = msgspec.json.decode(raw)
        text = msgspec.convert(data, NoticeText)
    except Exception as exc:  # yaml, json and validation errors all say where
        raise MarsadError(f"{path}: not a valid notice: {exc}") from None
    for field, vocab in (("tlp", TLP), ("pap", PAP)):
        value = getattr(text, field)
        if value is not None and value.lower() not in {v.value for v in vocab}:
            raise MarsadError(f"{path}: {field} {value!r} is not one of "
                              f"{', '.join(v.value for v in vocab)}")  # fmt: skip
    return text


def _members(store: Store, cluster: int) -> list[int]:
    with store.engine.connect() as conn:
        rows: list[Any] = list(conn.execute(
            select(cluster_members.c.observable_id).where(cluster_members.c.cluster_id == cluster)
        ).scalars())  # fmt: skip
    return sorted(int(r) for r in rows)


def _read(store: Store, grant: Grant, cluster: int) -> tuple[list[Any], list[Any]]:
    """Visible statements and relationships of the cluster's visibly linked part."""
    members = _members(store, cluster)
    with store.engine.connect() as conn:
        rows: list[Any] = list(conn.execute(
            _assertion_query().where(assertions.c.observable_id.in_(members),
                                     visible(grant, assertions), assertions.c.revoked_at.is_(None))
            .order_by(assertions.c.id)
        ))  # fmt: skip
    graph = read_graph(store, [cluster])
    label = networks(graph, grant, sorted({r.observable_id for r in rows}), every_member=True)
    stated = Counter(label[r.observable_id] for r in rows if r.observable_id in label)
    if not stated:
        raise MarsadError(
            f"no cluster {cluster} among the clusters this organisation may see "
            "(see `marsad cluster list --as ORG`)"
        )
    main = stated.most_common(1)[0][0]
    rows = [r for r in rows if label.get(r.observable_id) == main]
    with store.engine.connect() as conn:
        refs: list[Any] = list(conn.execute(
            select(observables.c.type, observables.c.value).where(
                observables.c.id.in_([k for k, v in label.items() if v == main]))
        ))  # fmt: skip
        wanted = [f"{t}:{v}" for t, v in refs]
        rels: list[Any] = list(conn.execute(
            select(relationships).where(relationships.c.source_ref.in_(wanted),
                                        relationships.c.target_ref.in_(wanted),
                                        visible(grant, relationships))
            .order_by(relationships.c.id)
        ))  # fmt: skip
    return rows, rels


def _default_text(threats: Counter[str], size: int, lang: str) -> NoticeText:
    _, ngettext = gettext(lang), language.ngettext(lang)
    top = ", ".join(t for t, _n in threats.most_common(3))
    return NoticeText(
        method=ngettext("A network of %(num)s linked item used for %(threats)s.",
                        "A network of %(num)s linked items used for %(threats)s.", size,
                        threats=top),
        countermeasures=[_("Block the listed indicators."),
                         _("Report further sightings to the issuing organisation.")],
    )  # fmt: skip


def build_notice(
    store: Store,
    cluster: int,
    issuer: str,
    *,
    text: NoticeText | None = None,
    title: str | None = None,
    now: dt.datetime | None = None,
    lang: str = DEFAULT,
) -> tuple[Notice, list[AssertionView], list[RelationshipRecord]]:
    """The notice of a cluster as its issuer may see it (audited), with its STIX material;
    the default title and prose (where the analyst gave none) in ``lang``."""
    _ = gettext(checked(lang))
    now = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    viewer: Viewer = store.viewer(issuer, Role.ANALYST)
    grant = grant_for(viewer, now.date())
    try:
        rows, rels = _read(store, grant, cluster)
    except MarsadError:
        audit.record(store, viewer, "report-notice", str(cluster), outcome="deny")
        raise
    stored = [_stored(r) for r in rows]
    threats = Counter(s.view.threat_type.value for s in stored)
    prose = text or _default_text(threats, len({r.observable_id for r in rows}), lang)
    ranks = [t.label for t in TLP]
    tlp = max([r.tlp for r in rows] + [r.tlp for r in rels]
              + [TLP(prose.tlp.lower()).rank if prose.tlp else 0])  # fmt: skip
    pap = max([r.pap for r in rows] + [PAP(prose.pap.lower()).rank if prose.pap else 0])
    ips = [
        s.view.observable.value for s in stored if s.view.observable.type.value in ("ipv4", "ipv6")
    ]
    notice = Notice(
        cluster=cluster, title=title or prose.title
        or _("Modus operandi: %(threat)s network %(cluster)s")
        % {"threat": threats.most_common(1)[0][0], "cluster": cluster},
        issuer=viewer.label, generated_at=now, tlp=ranks[tlp], pap=[p.label for p in PAP][pap],
        text=prose, threat_types=dict(threats.most_common()),
        hosting_countries=dict(Counter(c for c in country_codes(ips) if c).most_common()),
        indicators=tuple(
            Indicator(type=s.view.observable.type.value, value=s.view.observable.value,
                      threat_type=s.view.threat_type.value, source=s.view.source,
                      grading=f"{s.view.handling.reliability}{s.view.handling.credibility}",
                      tlp=s.view.handling.tlp.label, pap=s.view.handling.pap.label,
                      last_seen=s.view.last_seen)
            for s in stored
        ),
        infrastructure=tuple(Link(source=r.source_ref, type=r.type, target=r.target_ref)
                             for r in rels),
        assertion_ids=tuple(s.id for s in stored),
    )  # fmt: skip
    audit.record(store, viewer, "report-notice", str(cluster), purpose="operational-coordination",
                 details={"tlp": notice.tlp, **audit.id_summary(list(notice.assertion_ids))})  # fmt: skip
    records = [
        RelationshipRecord(source_ref=r.source_ref, target_ref=r.target_ref, type=r.type,
                           location=r.location, handling=handling_of(r))
        for r in rels
    ]  # fmt: skip
    return notice, [s.view for s in stored], records
