"""Priority scores: each factor moves the score the right way, with its reason; and only
what the viewer may see counts."""

from __future__ import annotations

import datetime as dt

import numpy as np

from marsad.access.policy import grant_for
from marsad.analysis.priorities import observable_scores, ranked
from marsad.analysis.scoring import Columns, score
from marsad.ingest.batch import SubmissionDefaults
from marsad.ingest.pipeline import ingest
from marsad.model.handling import TLP, Handling
from marsad.model.records import ThreatType
from marsad.store.store import Store


def cols(rows: list[tuple[int, int, str, int, float, int, str, bool]]) -> Columns:
    o, s, r, c, a, n, t, rel = zip(*rows, strict=True)
    return Columns(observable=np.array(o), source=np.array(s), reliability=list(r),
                   credibility=np.array(c), age_days=np.array(a, dtype=float),
                   sightings=np.array(n), threat=list(t), relevant=np.array(rel))  # fmt: skip


BASE = (3, "C", 3, 10.0, 1, "phishing", False)


def one(observable: int, source: int, **change: object) -> tuple:  # type: ignore[type-arg]
    fields = dict(zip(("reliability", "credibility", "age", "sightings", "threat", "relevant"),
                      BASE[1:], strict=True))  # fmt: skip
    fields.update(change)
    return (observable, source, fields["reliability"], fields["credibility"], fields["age"],
            fields["sightings"], fields["threat"], fields["relevant"])  # fmt: skip


def test_each_factor_raises_the_score_and_says_why() -> None:
    result = score(cols([
        one(1, 1),
        one(2, 1), one(2, 2), one(2, 3),  # three independent sources
        one(3, 1, reliability="A", credibility=1),
        one(4, 1, age=0.0),
        one(5, 1, sightings=80),
        one(6, 1, threat="c2"),
        one(7, 1, relevant=True),
        one(8, 1), one(8, 1, sightings=0),  # the same source twice is one source
    ]))  # fmt: skip
    s = dict(zip(result.observable.tolist(), result.score.tolist(), strict=True))
    for better in (2, 3, 4, 5, 6, 7):
        assert s[better] > s[1], better
    assert s[8] == s[1]
    row = {int(o): i for i, o in enumerate(result.observable)}
    assert "3 independent source(s)" in result.reasons(row[2])
    assert "best grading A1" in result.reasons(row[3])
    assert "threat c2 (severity 0.90)" in result.reasons(row[6])
    assert "concerns your country" in result.reasons(row[7])
    assert "concerns your country" not in result.reasons(row[1])


def test_only_visible_assertions_count(orgs: Store) -> None:
    def send(source: str, tlp: TLP, threat: ThreatType) -> None:
        report = ingest(orgs, f"203.0.113.5\n# {source} {tlp}\n".encode(), source=source,
                        defaults=SubmissionDefaults(handling=Handling(tlp=tlp, reliability="A",
                                                                      credibility=1)),
                        threat_type=threat)  # fmt: skip
        assert report.status == "ingested", report

    send("PhishGuard", TLP.RED, ThreatType.C2)
    send("Fiji CCU", TLP.GREEN, ThreatType.PHISHING)
    today = dt.date.today()
    fiji = orgs.viewer("Fiji CCU")
    scores, refs = observable_scores(orgs, fiji, grant_for(fiji, today))
    [item] = ranked(scores, refs, 5)
    assert item.ref == "ipv4:203.0.113.5"
    assert "1 independent source(s)" in item.reasons
    assert any("threat phishing" in r for r in item.reasons)  # not the RED c2 report
    owner = orgs.viewer("PhishGuard")
    [mine] = ranked(*observable_scores(orgs, owner, grant_for(owner, today)), 5)
    assert "2 independent source(s)" in mine.reasons and mine.score > item.score
