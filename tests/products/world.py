"""A small fixed world for the products: organisations, located values and planted handling.

Values are chosen so the real enrichment places them: 202.62.120.0/24 and 144.120.78.0/24
are registered to Fiji, 202.4.33.0/24 to Samoa (iptocc's RIR data); ``.fj`` domains are
Fijian by their ccTLD. Every value the Fiji CCU must never see contains ``secret``.
Records are written straight into the tables (like the exchange's tenant world) so each
one carries exactly the handling a test needs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import insert, text

from marsad.model.normalize import registered_domain
from marsad.model.organisation import make_organisation
from marsad.store.schema import (
    assertions,
    blobs,
    cluster_members,
    clusters,
    observables,
    relationships,
    submissions,
)
from marsad.store.store import Store

ORGS = [  # name, kind, country, region, parent
    ("Fiji CCU", "national-cyber-unit", "FJ", "asia-south-pacific", None),
    ("Suva Desk", "national-cyber-unit", "FJ", "asia-south-pacific", "Fiji CCU"),
    ("Samoa CCU", "national-cyber-unit", "WS", "asia-south-pacific", None),
    ("ASP Desk", "regional-desk", "SG", "asia-south-pacific", None),
    ("PhishGuard", "private-partner", "AU", None, None),
    ("France OFAC", "national-cyber-unit", "FR", "europe", None),
]
OCT = dt.datetime(2026, 10, 10, tzinfo=dt.UTC)
AUG = dt.datetime(2026, 8, 3, tzinfo=dt.UTC)


@dataclass
class Planter:
    """Writes observables, assertions and relationships with explicit handling."""

    store: Store
    org: dict[str, int] = field(default_factory=dict)
    sub: dict[int, int] = field(default_factory=dict)
    obs: dict[str, int] = field(default_factory=dict)  # "type:value" -> id
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    next_id: dict[str, int] = field(default_factory=dict)

    def add_orgs(self, orgs: list[tuple[str, str, str | None, str | None, str | None]]) -> None:
        for name, kind, country, region, parent in orgs:
            row = self.store.add_org(make_organisation(name, kind, country, region), parent)
            self.org[name] = row.id
        now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
        with self.store.engine.begin() as conn:
            for oid in self.org.values():
                raw = f"planted by {oid}".encode()
                digest = hashlib.sha256(raw).hexdigest()
                conn.execute(insert(blobs).values(sha256=digest, size=len(raw), data=raw))
                self.sub[oid] = conn.execute(
                    insert(submissions).values(
                        source_org_id=oid, sha256=digest, size=len(raw), filename="planted",
                        format="list", status="ingested", defaults="{}", received_at=now,
                        completed_at=now,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]  # fmt: skip

    def _id(self, table: str) -> int:
        self.next_id[table] = self.next_id.get(table, 0) + 1
        return self.next_id[table]

    def observable(self, typ: str, value: str) -> int:
        ref = f"{typ}:{value}"
        if ref not in self.obs:
            host = value.split("/")[2] if typ == "url" else value
            reg = (
                registered_domain(host) if typ in ("domain", "url") and host[0].isalpha() else None
            )
            self.obs[ref] = oid = self._id("observables")
            self.rows.setdefault("observables", []).append(
                {"id": oid, "type": typ, "value": value, "registered_domain": reg}
            )
        return self.obs[ref]

    def assertion(self, typ: str, value: str, threat: str, source: str, *, tlp: int = 1,
                  pap: int = 1, to: tuple[str, ...] = (), owner: str | None = None,
                  seen: dt.datetime = OCT, grading: str = "B2",
                  revoked: bool = False, retain_until: dt.date | None = None) -> int:  # fmt: skip
        """Plant *source says value is threat*; returns the assertion id."""
        aid = self._id("assertions")
        src = self.org[source]
        self.rows.setdefault("assertions", []).append(
            {"id": aid, "observable_id": self.observable(typ, value), "source_org_id": src,
             "owner_org_id": self.org[owner] if owner else src, "threat_type": threat,
             "first_seen": seen, "last_seen": seen + dt.timedelta(days=2), "sightings": 3,
             "confidence": 80, **_handling(tlp, pap, to, grading, retain_until),
             "first_submission_id": self.sub[src], "last_submission_id": self.sub[src],
             "location": "line 1", "revoked_at": OCT if revoked else None}
        )  # fmt: skip
        return aid

    def relationship(self, source_ref: str, rel: str, target_ref: str, source: str, *,
                     tlp: int = 1, to: tuple[str, ...] = ()) -> int:  # fmt: skip
        """Plant an edge between two observable refs."""
        rid = self._id("relationships")
        src = self.org[source]
        for ref in (source_ref, target_ref):
            self.observable(*ref.split(":", 1))
        self.rows.setdefault("relationships", []).append(
            {"id": rid, "source_ref": source_ref, "type": rel, "target_ref": target_ref,
             "source_org_id": src, **_handling(tlp, 1, to, "B2", None), "attributes": "{}",
             "first_seen": OCT, "last_seen": OCT, "count": 1, "first_submission_id": self.sub[src],
             "last_submission_id": self.sub[src], "location": "line 1"}
        )  # fmt: skip
        return rid

    def cluster(self, refs: list[str]) -> int:
        """Store one cluster (as `marsad analyse` would) over these refs."""
        ids = [self.obs[r] for r in refs]
        cid = min(ids)
        self.rows.setdefault("clusters", []).append(
            {"id": cid, "size": len(ids), "computed_at": OCT}
        )
        self.rows.setdefault("cluster_members", []).extend(
            {"observable_id": i, "cluster_id": cid} for i in ids
        )
        return cid

    def commit(self) -> None:
        tables = {"observables": observables, "assertions": assertions,
                  "relationships": relationships, "clusters": clusters,
                  "cluster_members": cluster_members}  # fmt: skip
        with self.store.engine.begin() as conn:
            for name, table in tables.items():
                if self.rows.get(name):
                    conn.execute(insert(table), self.rows[name])
            if not self.store.dialect.sqlite:  # explicit ids: move the sequences past them
                for name in ("observables", "assertions", "relationships"):
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                      f"(SELECT coalesce(max(id), 1) FROM {name}))"))  # fmt: skip


def _handling(tlp: int, pap: int, to: tuple[str, ...], grading: str,
              retain_until: dt.date | None) -> dict[str, Any]:  # fmt: skip
    return {"tlp": tlp, "pap": pap, "releasable_to": orjson.dumps(sorted(to)).decode(),
            "reliability": grading[0], "credibility": int(grading[1]),
            "purpose": "threat-analysis", "retain_until": retain_until}  # fmt: skip


FJ_PHISH = "202.62.120.10"
FJ_C2 = "202.62.120.11"
FJ_VICTIM = "202.62.120.12"
FJ_SECRET = "202.62.120.66"
FJ_OLD = "202.62.120.70"
FJ_REVOKED = "202.62.120.71"
WS_PHISH = "202.4.33.20"


@dataclass
class Fixed:
    """The fixed world and what each recipient must find in it."""

    p: Planter
    network: int = 0


def build_fixed(store: Store) -> Fixed:
    """The fixed dataset the product tests read (period 2026-10, Fiji and Samoa)."""
    p = Planter(store)
    p.add_orgs(ORGS)
    # infrastructure in Fiji
    p.assertion("ipv4", FJ_PHISH, "phishing", "PhishGuard", tlp=1, pap=1, grading="B2")
    p.assertion("ipv4", FJ_C2, "c2", "ASP Desk", tlp=2, pap=2, to=("org:Fiji CCU",), grading="A1")
    p.assertion("domain", "bank-fiji-login.com.fj", "investment-scam", "PhishGuard", tlp=0, pap=0)
    p.assertion("domain", "fiji-resolves.example.com", "phishing", "PhishGuard")
    p.relationship("domain:fiji-resolves.example.com", "resolves-to", f"ipv4:{FJ_PHISH}",
                   "PhishGuard", tlp=1)  # fmt: skip
    p.assertion("url", f"http://{FJ_PHISH}/login", "phishing", "PhishGuard")
    p.assertion("ipv4", FJ_VICTIM, "compromised", "PhishGuard", tlp=1, pap=1)
    # victims: reported by Fiji's own unit, hosted elsewhere
    p.assertion("domain", "invest-abroad.example.net", "investment-scam", "Fiji CCU",
                tlp=2, pap=3, to=("org:Fiji CCU",))  # fmt: skip
    # what Fiji must not see, or must not get in an October report
    p.assertion("ipv4", FJ_SECRET, "c2", "France OFAC", tlp=4, to=("org:France OFAC",))
    p.assertion("domain", "secret-samoa-only.com.fj", "phishing", "ASP Desk", tlp=2,
                to=("org:Samoa CCU",))  # fmt: skip
    p.assertion("domain", "secret-linked.example.org", "phishing", "PhishGuard", tlp=1)
    p.relationship("domain:secret-linked.example.org", "resolves-to", f"ipv4:{FJ_C2}",
                   "France OFAC", tlp=4, to=("org:France OFAC",))  # fmt: skip
    p.relationship(f"ipv4:{FJ_C2}", "communicates-with", f"ipv4:{FJ_PHISH}", "France OFAC",
                   tlp=4, to=("org:France OFAC",))  # fmt: skip
    p.assertion("ipv4", FJ_OLD, "phishing", "PhishGuard", seen=AUG)
    p.assertion("ipv4", FJ_REVOKED, "phishing", "PhishGuard", revoked=True)
    p.assertion("domain", "secret-benign.com.fj", "benign", "PhishGuard")
    p.assertion("domain", "secret-expired-scam.example.com", "investment-scam", "PhishGuard",
                tlp=0, retain_until=dt.date(2026, 1, 1))  # fmt: skip
    # Samoa
    p.assertion("ipv4", WS_PHISH, "phishing", "PhishGuard", tlp=1, pap=1)
    world = Fixed(p=p)
    world.network = p.cluster(
        [f"ipv4:{FJ_PHISH}", "domain:fiji-resolves.example.com", f"url:http://{FJ_PHISH}/login",
         f"ipv4:{FJ_C2}", "domain:secret-linked.example.org"]
    )  # fmt: skip
    p.commit()
    return world
