"""The demo world: organisations, planted criminal networks and partner submissions.

Pure and deterministic: ``build_world(seed, scale)`` does no I/O and reads no clock, so
the same seed and scale give byte-identical submissions. Networks and noise are built
in ``networks``; ``writers`` turns picked observables into the files partners send.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import msgspec

from marsad.demo import identifiers as ids
from marsad.demo import names as N
from marsad.demo.networks import DAYS, NOISE, Builder, Operation, build_operations
from marsad.demo.writers import StixWriter, csv_file, day_date, list_file, stable_id, stamp
from marsad.model.handling import PAP, TLP, Handling, Purpose, Region, Releasability
from marsad.model.organisation import OrgKind
from marsad.model.records import ThreatType as T

HUB = "Global Cybercrime Hub"
DESK = "Asia & South Pacific Desk"
VENDOR = "PhishGuard Labs"
BANK_CERT = "Pacific Banks CERT"
REGISTRAR = "Southern Cross Domains Abuse Desk"
PIRACY_ALLIANCE = "Asia Video Rights Alliance"
PARTNERS: dict[str, str] = {VENDOR: "SG", BANK_CERT: "AU", REGISTRAR: "NZ", PIRACY_ALLIANCE: "HK"}

R = Releasability
TO_DESK = R(organisations=(DESK,))
TO_REGION = R(regions=(Region.ASIA_SOUTH_PACIFIC,))
HANDLING: dict[str, Handling] = {
    "vendor": Handling(TLP.AMBER, PAP.AMBER, R(all_members=True), "B", 2, Purpose.THREAT_ANALYSIS),
    "vendor-open": Handling(
        TLP.CLEAR,
        PAP.CLEAR,
        R(all_members=True, partners=True),
        "B",
        2,
        Purpose.PREVENTION_AND_AWARENESS,
    ),
    "bank": Handling(
        TLP.AMBER,
        PAP.GREEN,
        TO_REGION,
        "B",
        2,
        Purpose.VICTIM_NOTIFICATION,
        retain_until=dt.date(2027, 12, 31),
    ),
    "registrar": Handling(
        TLP.GREEN, PAP.GREEN, R(all_members=True), "B", 2, Purpose.PREVENTION_AND_AWARENESS
    ),
    "piracy": Handling(
        TLP.GREEN,
        PAP.GREEN,
        R(all_members=True, partners=True),
        "C",
        3,
        Purpose.INVESTIGATION_SUPPORT,
    ),
    "hub-open": Handling(
        TLP.CLEAR,
        PAP.CLEAR,
        R(all_members=True, partners=True),
        "B",
        2,
        Purpose.PREVENTION_AND_AWARENESS,
    ),
    "hub-vetted": Handling(
        TLP.GREEN, PAP.GREEN, R(all_members=True), "A", 1, Purpose.THREAT_ANALYSIS
    ),
    "desk": Handling(TLP.AMBER, PAP.AMBER, TO_REGION, "A", 2, Purpose.OPERATIONAL_COORDINATION),
}
CASE_TYPES = frozenset({"phone", "iban", "btc-wallet", "eth-wallet", "email", "domain", "url"})
LOCAL_SUFFIXES = frozenset(s for group in N.COUNTRY_SUFFIXES.values() for s in group)
PAYMENT_AND_CONTACT = ("iban", "phone", "btc-wallet", "eth-wallet", "email")
# What a unit's own local leads of each observable type are about.
LOCAL_LEADS: dict[str, tuple[T, ...]] = {
    "phone": (T.ROMANCE_SCAM, T.INVESTMENT_SCAM, T.FRAUD),
    "iban": (T.ROMANCE_SCAM, T.INVESTMENT_SCAM, T.FRAUD, T.BEC),
    "email": (T.ROMANCE_SCAM, T.BEC, T.FRAUD),
    "domain": (T.PHISHING, T.INVESTMENT_SCAM, T.FRAUD),
    "url": (T.PHISHING, T.INVESTMENT_SCAM),
}
MARKED = ((None, 0.85), (TLP.GREEN, 0.1), (TLP.RED, 0.05))


@dataclass(frozen=True)
class Feed:
    """A recurring partner feed: what it covers, how often, in which format and handling."""

    source: str
    slug: str
    fmt: str
    first: int
    every: int
    threats: frozenset[T]
    types: frozenset[str]
    window: int
    coverage: float
    handling: str
    default: T | None = None
    local_only: bool = False


FEEDS: tuple[Feed, ...] = (
    Feed(
        VENDOR,
        "partner-phishguard",
        "stix21",
        5,
        7,
        frozenset({T.PHISHING, T.C2, T.MALWARE_DISTRIBUTION, T.INVESTMENT_SCAM, T.MALWARE}),
        frozenset({"domain", "url", "ipv4", "sha256"}),
        28,
        0.5,
        "vendor",
    ),
    Feed(
        VENDOR,
        "phishguard-community-phishing",
        "list",
        2,
        7,
        frozenset({T.PHISHING}),
        frozenset({"domain"}),
        14,
        0.5,
        "vendor-open",
        T.PHISHING,
    ),
    Feed(
        BANK_CERT,
        "pbcert-fraud-indicators",
        "csv",
        9,
        14,
        frozenset({T.PHISHING, T.INVESTMENT_SCAM, T.BEC, T.ROMANCE_SCAM}),
        frozenset({"url", *PAYMENT_AND_CONTACT}),
        28,
        0.7,
        "bank",
    ),
    Feed(
        REGISTRAR,
        "scda-suspensions",
        "stix21",
        20,
        30,
        frozenset(T) - {T.BENIGN},
        frozenset({"domain"}),
        31,
        0.9,
        "registrar",
        local_only=True,
    ),
    Feed(
        PIRACY_ALLIANCE,
        "avra-blocklist",
        "list",
        3,
        7,
        frozenset({T.PIRACY}),
        frozenset({"domain"}),
        21,
        0.8,
        "piracy",
        T.PIRACY,
    ),
    Feed(
        PIRACY_ALLIANCE,
        "avra-piracy-sites",
        "csv",
        25,
        30,
        frozenset({T.PIRACY}),
        frozenset({"domain", "url", "ipv4", "tracking-id", "btc-wallet", "eth-wallet"}),
        35,
        0.7,
        "piracy",
    ),
    Feed(
        HUB,
        "hub-osint-phishing",
        "list",
        1,
        4,
        frozenset({T.PHISHING}),
        frozenset({"url", "domain"}),
        10,
        0.5,
        "hub-open",
        T.PHISHING,
    ),
    Feed(
        HUB,
        "hub-osint-malware",
        "csv",
        4,
        7,
        frozenset({T.C2, T.MALWARE_DISTRIBUTION, T.MALWARE}),
        frozenset({"ipv4", "url", "domain", "sha256"}),
        21,
        0.5,
        "hub-vetted",
    ),
)
# Who publishes the full report of an operation of each threat type (with its STIX SDOs).
REPORTERS: dict[T, tuple[str, ...]] = {
    T.PHISHING: (VENDOR, REGISTRAR, DESK),
    T.C2: (VENDOR, DESK),
    T.MALWARE_DISTRIBUTION: (VENDOR, DESK),
    T.INVESTMENT_SCAM: (BANK_CERT, VENDOR, DESK),
    T.ROMANCE_SCAM: (BANK_CERT, DESK),
    T.BEC: (BANK_CERT, DESK),
    T.PIRACY: (PIRACY_ALLIANCE, REGISTRAR, DESK),
}
REPORT_HANDLING = {
    VENDOR: "vendor",
    BANK_CERT: "bank",
    REGISTRAR: "registrar",
    PIRACY_ALLIANCE: "piracy",
    DESK: "desk",
}
SLUGS = {
    VENDOR: "phishguard",
    BANK_CERT: "pbcert",
    REGISTRAR: "scda",
    PIRACY_ALLIANCE: "avra",
    DESK: "asp-desk",
}


class OrgSpec(msgspec.Struct, frozen=True):
    """An organisation of the demo world."""

    name: str
    kind: OrgKind
    country: str | None
    region: Region | None


class DemoSubmission(msgspec.Struct, frozen=True):
    """One file a source sends, exactly as sent, with its default handling."""

    source: str
    filename: str
    format: str
    raw: bytes
    handling: Handling
    threat_type: T | None = None


class PlantedNetwork(msgspec.Struct, frozen=True):
    """The ground truth of one criminal operation: its members and what ties them."""

    id: str
    threat_type: T
    operator: str
    countries: tuple[str, ...]
    members: tuple[str, ...]
    links: tuple[str, ...]


class DemoWorld(msgspec.Struct, frozen=True):
    """Everything the demo loads: organisations, submissions in time order, ground truth."""

    organisations: tuple[OrgSpec, ...]
    submissions: tuple[DemoSubmission, ...]
    networks: tuple[PlantedNetwork, ...]


def organisations() -> tuple[OrgSpec, ...]:
    """The hub, the regional desk, the national units and the private partners."""
    asp = Region.ASIA_SOUTH_PACIFIC
    out = [OrgSpec(HUB, OrgKind.HUB, None, None), OrgSpec(DESK, OrgKind.REGIONAL_DESK, "SG", asp)]
    out += [OrgSpec(name, OrgKind.NATIONAL_CYBER_UNIT, cc, asp) for cc, name in N.UNITS.items()]
    out += [OrgSpec(name, OrgKind.PRIVATE_PARTNER, cc, None) for name, cc in PARTNERS.items()]
    return tuple(out)


_Sub = tuple[int, str, str, str, bytes, Handling, T | None]


class _World:
    """One build: the pool, the writers and the submissions collected so far."""

    def __init__(self, seed: int, scale: float) -> None:
        self.rng = random.Random(seed)
        self.builder: Builder = build_operations(self.rng, scale)
        self.pool = self.builder.pool
        self.stix = StixWriter(self.pool, self.rng)
        self.stretch = max(1, round(min(1.0, scale) ** -0.5))
        self.subs: list[_Sub] = []

    def add(
        self,
        day: int,
        source: str,
        name: str,
        fmt: str,
        raw: bytes,
        handling: Handling,
        threat: T | None = None,
    ) -> None:
        """Collect one submission; ``name`` gets the format's extension, dated unless a case."""
        ext = {"stix21": "json", "csv": "csv", "list": "txt"}[fmt]
        dated = "-case-" not in name
        filename = f"{name}-{day_date(day).isoformat()}.{ext}" if dated else f"{name}.{ext}"
        self.subs.append((day, source, filename, fmt, raw, handling, threat))

    def candidates(self, keep: Callable[[int], bool]) -> tuple[list[int], list[int]]:
        """Pool indexes that pass ``keep``, sorted by first day, with their first days."""
        pool = self.pool
        picked = sorted((i for i in range(len(pool.items)) if keep(i)), key=pool.birth.__getitem__)
        return picked, [pool.birth[i] for i in picked]

    def window(self, cand: tuple[list[int], list[int]], day: int, days: int, p: float) -> list[int]:
        """A sample of the candidates first seen in the ``days`` before ``day``."""
        items, births = cand
        lo, hi = bisect.bisect_left(births, day - days + 1), bisect.bisect_right(births, day)
        r = self.rng.random
        return [i for i in items[lo:hi] if r() < p]

    # -- recurring feeds -------------------------------------------------------------
    def feeds(self) -> None:
        """Every recurring feed, on its schedule, with a few deliberately bad lines."""
        pool = self.pool
        for feed in FEEDS:

            def keep(i: int, f: Feed = feed) -> bool:
                kind, value = pool.items[i]
                if kind not in f.types or pool.threat[i] not in f.threats or pool.owner[i] < NOISE:
                    return False
                return not f.local_only or value.split(".", 1)[-1] in LOCAL_SUFFIXES

            cand = self.candidates(keep)
            handling = HANDLING[feed.handling]
            for n, day in enumerate(range(feed.first, DAYS, feed.every * self.stretch)):
                picks = self.window(cand, day, feed.window, feed.coverage)
                first = n == 0
                if feed.fmt == "stix21":
                    extra = (
                        self.bad_stix(feed.source, day) if first and feed.source == VENDOR else ()
                    )
                    raw = self.stix.bundle(
                        picks, author=feed.source, day=day, markings=MARKED, extra=extra
                    )
                elif feed.fmt == "csv":
                    bad = self.bad_rows() if first and feed.source == BANK_CERT else ()
                    raw = csv_file(pool, picks, self.rng, day, bad=bad)
                else:
                    title = f"{feed.source}: {feed.slug.replace('-', ' ')}"
                    bad_lines = ("999.1.2.3", "300.20.1.1") if first and feed.source == HUB else ()
                    raw = list_file(
                        pool, picks, title, day, hosts=feed.source == PIRACY_ALLIANCE, bad=bad_lines
                    )
                self.add(day, feed.source, feed.slug, feed.fmt, raw, handling, feed.default)

    def bad_rows(self) -> list[tuple[str, ...]]:
        """CSV rows a normaliser must reject: broken checksums and an impossible number."""
        r = self.rng
        wallet = ids.break_checksum(ids.btc_address(r))
        bad_iban = ids.iban(r, "GB")
        bad_iban = bad_iban[:2] + ("00" if bad_iban[2:4] != "00" else "01") + bad_iban[4:]
        return [
            (wallet, "btc-wallet", "investment-scam", "2026-06-02", "", "", "bad checksum"),
            (bad_iban, "iban", "bec", "2026-06-03", "", "", "bad check digits"),
            ("+999123", "phone", "romance-scam", "2026-06-03", "", "", "no such country code"),
        ]

    def bad_stix(self, author: str, day: int) -> list[dict[str, object]]:
        """An indicator with an impossible address and a wallet SCO with a broken checksum."""
        bad_wallet = ids.break_checksum(ids.btc_address(self.rng))
        return [
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": self.stix.new_id("indicator"),
                "created_by_ref": stable_id("identity", author),
                "created": stamp(day),
                "modified": stamp(day),
                "indicator_types": ["malicious-activity"],
                "labels": ["c2"],
                "pattern": "[ipv4-addr:value = '999.1.2.3']",
                "pattern_type": "stix",
                "valid_from": stamp(day),
            },
            {
                "type": "cryptocurrency-wallet",
                "spec_version": "2.1",
                "id": self.stix.new_id("cryptocurrency-wallet"),
                "value": bad_wallet,
            },
        ]

    # -- full operation reports and unit case files -----------------------------------
    def reports(self) -> None:
        """Each operation reported once in full, grouped by reporter and month."""
        groups: dict[tuple[str, int], list[tuple[int, Operation]]] = {}
        for op in self.builder.ops:
            reporter = self.rng.choice(REPORTERS[op.threat])
            day = min(DAYS - 1, op.end + self.rng.randint(3, 20))
            groups.setdefault((reporter, day_date(day).month), []).append((day, op))
        for (reporter, _month), dated in sorted(groups.items()):
            day, ops = max(d for d, _ in dated), [op for _, op in dated]
            picks = [m for op in ops for m in op.members]
            with_sdos = [op for op in ops if reporter == DESK or self.rng.random() < 0.5]
            raw = self.stix.bundle(picks, author=reporter, day=day, operations=with_sdos)
            name = f"{SLUGS[reporter]}-{'package' if reporter == DESK else 'report'}"
            self.add(day, reporter, name, "stix21", raw, HANDLING[REPORT_HANDLING[reporter]])

    def units(self) -> None:
        """Case files of each national unit on the operations hitting its country."""
        r = self.rng
        for number, (cc, unit) in enumerate(N.UNITS.items()):
            ops = [op for op in self.builder.ops if cc in op.victims]
            for case in range(max(1, round(r.randint(3, 8) * self.builder.factor))):
                day = r.randint(30, DAYS - 1)
                picks = self.case_picks(cc, [op for op in ops if op.start <= day], day)
                tlp = TLP.RED if r.random() < 0.5 else TLP.AMBER_STRICT
                handling = Handling(
                    tlp,
                    PAP.RED,
                    TO_DESK,
                    r.choice("AB"),
                    r.choice((1, 2)),
                    Purpose.INVESTIGATION_SUPPORT,
                    retain_until=day_date(day) + dt.timedelta(days=3 * 365),
                    review_at=day_date(day) + dt.timedelta(days=365),
                )
                ref = f"{cc.lower()}-case-2026-{100 * number + case + 1:04d}"
                planted = number == 0 and case == 0
                if planted or r.random() < 0.6:
                    bad = [self.bad_case_row()] if planted else []
                    raw = csv_file(self.pool, picks, r, day, note=f" (case {ref.upper()})", bad=bad)
                    self.add(day, unit, ref, "csv", raw, handling)
                else:
                    marks: Sequence[tuple[TLP | None, float]] = ((tlp, 1.0),)
                    raw = self.stix.bundle(picks, author=unit, day=day, markings=marks)
                    self.add(day, unit, ref, "stix21", raw, handling)

    def case_picks(self, cc: str, started: list[Operation], day: int) -> list[int]:
        """What one case file holds: identifiers of one or two operations, plus local leads."""
        r, pool, factor = self.rng, self.pool, self.builder.factor
        focus = r.sample(started, min(len(started), r.randint(1, 2)))
        known = [
            m
            for op in focus
            for m in op.members
            if pool.birth[m] <= day and pool.items[m][0] in CASE_TYPES
        ]
        picks = r.sample(known, min(len(known), round(r.randint(40, 900) * factor)))
        for _ in range(max(3, round(r.randint(20, 150) * factor))):
            kind = r.choice(("phone", "domain", "url", "email", "iban"))
            threat = r.choice(LOCAL_LEADS[kind])
            value = self.builder.noise_value(kind, threat, cc)
            picks.append(pool.add(kind, value, threat, max(0, day - r.randint(0, 30)), NOISE))
        return picks

    def bad_case_row(self) -> tuple[str, ...]:
        """A case-file row with a broken Ethereum checksum and an impossible date."""
        wallet = "0x" + ids.eth_address(self.rng)[2:].swapcase()
        return (wallet, "eth-wallet", "investment-scam", "2026-13-45", "", "", "typo in date")

    def resend(self) -> None:
        """A few files sent twice, byte for byte, a day or two later."""
        by_source: dict[str, list[_Sub]] = {}
        for sub in sorted(self.subs, key=lambda s: (s[0], s[1], s[2])):
            by_source.setdefault(sub[1], []).append(sub)
        for source in (BANK_CERT, PIRACY_ALLIANCE, next(iter(N.UNITS.values()))):
            original = by_source[source][0]
            self.subs.append((original[0] + self.rng.randint(1, 2), *original[1:]))

    def build(self) -> tuple[tuple[DemoSubmission, ...], tuple[PlantedNetwork, ...]]:
        """All submissions in time order and the planted networks."""
        self.feeds()
        self.reports()
        self.units()
        self.resend()
        ordered = sorted(self.subs, key=lambda s: (s[0], s[1], s[2]))
        subs = tuple(DemoSubmission(s, f, fmt, raw, h, t) for _, s, f, fmt, raw, h, t in ordered)
        pool = self.pool
        nets = tuple(
            PlantedNetwork(
                id=op.id,
                threat_type=op.threat,
                operator=op.operator,
                countries=op.countries,
                members=tuple(f"{pool.items[m][0]}:{pool.items[m][1]}" for m in op.members),
                links=tuple(f"{tag}:{pool.items[t][1]}" for tag, t in op.links),
            )
            for op in self.builder.ops
        )
        return subs, nets


def build_world(seed: int = 2026, scale: float = 1.0) -> DemoWorld:
    """The whole demo world for a seed; ``scale`` 1.0 is about 300,000 assertions."""
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    submissions, networks = _World(seed, scale).build()
    return DemoWorld(organisations(), submissions, networks)
