"""STIX export of a store re-imports into another store as the same records."""

from __future__ import annotations

import datetime as dt

import orjson

from marsad.access.policy import EVERYTHING
from marsad.formats.stix21_export import export_bundle
from marsad.ingest.batch import SubmissionDefaults
from marsad.ingest.pipeline import ingest
from marsad.model.handling import PAP, TLP, Handling, Purpose, Region, Releasability
from marsad.model.organisation import make_organisation
from marsad.model.records import ThreatType
from marsad.store.store import ExportFilter, Store
from tests.conftest import NOW

CSV = b"""value,type,threat_type,first_seen,last_seen,confidence,description
203.0.113.10,,c2,2026-09-01T10:00:00Z,2026-09-05T00:00:00Z,80,botnet controller
login-verify.example.net,,phishing,2026-08-01,,60,
https://pay.example.org/checkout?id=7,,investment-scam,2026-07-01,2026-10-01,,fake broker
d41d8cd98f00b204e9800998ecf8427e,md5,malware,,,,
0x52908400098527886E0F7030069857D2E4169EE7,eth-wallet,romance-scam,2026-06-01,,,
+6799123456,phone,romance-scam,,,,
"""


def _rows(store: Store) -> set[tuple[object, ...]]:
    return {
        (
            v.observable.type,
            v.observable.value,
            v.threat_type,
            v.handling,
            v.source,
            v.first_seen,
            v.last_seen,
            v.sightings,
            v.confidence,
        )
        for v in (a.view for a in store.iter_assertions(ExportFilter(), EVERYTHING))
    }


def test_export_reimports_to_the_same_records(store: Store, second_store: Store) -> None:
    partner = make_organisation("PhishGuard", "private-partner", "AU", "asia-south-pacific")
    store.add_org(partner)
    red = Handling(
        tlp=TLP.AMBER_STRICT,
        pap=PAP.GREEN,
        reliability="B",
        credibility=2,
        purpose=Purpose.INVESTIGATION_SUPPORT,
        releasable_to=Releasability(
            organisations=("ASP Desk",), regions=(Region.ASIA_SOUTH_PACIFIC,)
        ),
        retain_until=dt.date(2027, 6, 30),
        review_at=dt.date(2027, 1, 31),
    )
    ingest(store, CSV, source="PhishGuard", defaults=SubmissionDefaults(handling=red), now=NOW)
    ingest(store, b"203.0.113.10\n", source="PhishGuard", threat_type=ThreatType.C2, now=NOW)
    original = _rows(store)
    assert len(original) == 6

    bundle = export_bundle(
        (a.view for a in store.iter_assertions(ExportFilter(), EVERYTHING)),
        now=NOW + dt.timedelta(days=1),
    )
    target = second_store
    target.add_org(partner)
    report = ingest(target, bundle, source="PhishGuard", now=NOW + dt.timedelta(days=2))
    assert report.status == "ingested"
    assert report.rejected == 0, report.rejections
    assert _rows(target) == original

    # TLP 2.0 markings under their standard ids
    objects = orjson.loads(bundle)["objects"]
    marking_ids = {o["id"] for o in objects if o["type"] == "marking-definition"}
    assert "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003" in marking_ids  # AMBER+STRICT
