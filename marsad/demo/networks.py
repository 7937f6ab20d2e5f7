"""Criminal operations of the demo world, whose observables really share infrastructure.

Everything lives in one columnar ``Pool`` (value, threat, first day, owning operation,
outgoing edges) so the feed writers can pick by column without walking objects.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field

from marsad.demo import identifiers as ids
from marsad.demo import names as N
from marsad.model.records import ThreatType as T

DAYS = 153  # 2026-06-01 … 2026-10-31
NOISE = -1
HUB = -2

# Operations per threat type at scale 1.0, and their id tag.
OPERATIONS: dict[T, tuple[int, str]] = {
    T.PHISHING: (30, "PHISH"),
    T.C2: (12, "C2"),
    T.MALWARE_DISTRIBUTION: (12, "MALDIST"),
    T.INVESTMENT_SCAM: (15, "INVEST"),
    T.ROMANCE_SCAM: (10, "ROMANCE"),
    T.BEC: (10, "BEC"),
    T.PIRACY: (15, "PIRACY"),
}
# How likely each member country's people are to be an operation's victims.
VICTIM_WEIGHTS: dict[str, int] = {
    "AU": 10,
    "NZ": 5,
    "FJ": 3,
    "PG": 2,
    "WS": 1,
    "TO": 1,
    "VU": 1,
    "SB": 1,
    "ID": 7,
    "MY": 6,
    "SG": 6,
    "TH": 5,
    "PH": 7,
    "VN": 5,
    "KH": 2,
    "LA": 1,
    "IN": 8,
    "LK": 2,
    "JP": 5,
    "KR": 4,
}
SCAM_PHONE_COUNTRIES = ("KH", "LA", "MY", "PH", "TH", "NG", "GH")
# Background noise at scale 1.0: unrelated indicators, by observable type.
NOISE_MIX: dict[str, float] = {
    "domain": 0.36,
    "url": 0.25,
    "ipv4": 0.25,
    "sha256": 0.1,
    "email": 0.02,
    "phone": 0.01,
    "btc-wallet": 0.005,
    "eth-wallet": 0.005,
}
# What a stray indicator of each observable type is reported as.
NOISE_THREATS: dict[str, tuple[T, ...]] = {
    "domain": (
        T.PHISHING,
        T.PHISHING,
        T.PHISHING,
        T.MALWARE_DISTRIBUTION,
        T.C2,
        T.SPAM,
        T.INVESTMENT_SCAM,
        T.PIRACY,
        T.MALWARE,
    ),
    "url": (
        T.PHISHING,
        T.PHISHING,
        T.PHISHING,
        T.MALWARE_DISTRIBUTION,
        T.INVESTMENT_SCAM,
        T.PIRACY,
    ),
    "ipv4": (T.C2, T.SCANNING, T.BRUTE_FORCE, T.MALWARE_DISTRIBUTION, T.PHISHING, T.SPAM),
    "sha256": (T.MALWARE, T.MALWARE_DISTRIBUTION, T.C2, T.RANSOMWARE),
    "email": (T.SPAM, T.PHISHING, T.BEC, T.ROMANCE_SCAM),
    "phone": (T.ROMANCE_SCAM, T.INVESTMENT_SCAM, T.FRAUD),
    "iban": (T.ROMANCE_SCAM, T.INVESTMENT_SCAM, T.FRAUD, T.BEC),
    "btc-wallet": (T.INVESTMENT_SCAM, T.FRAUD, T.RANSOMWARE),
    "eth-wallet": (T.INVESTMENT_SCAM, T.FRAUD),
}
# Where money-mule accounts are opened, by weight.
MULE_IBAN_WEIGHTS: dict[str, int] = {
    "GB": 5,
    "LT": 4,
    "DE": 3,
    "NL": 3,
    "AE": 3,
    "PK": 1,
    "SA": 1,
    "TL": 1,
}
NOISE_AT_SCALE_1 = 34_000

Item = tuple[str, str]


@dataclass(slots=True)
class Operation:
    """One planted network while it is being built; members and links are pool indexes."""

    index: int
    id: str
    threat: T
    operator: str
    hosting: tuple[str, ...]
    victims: tuple[str, ...]
    start: int
    end: int
    members: list[int] = field(default_factory=list)
    links: list[tuple[str, int]] = field(default_factory=list)
    member_set: set[int] = field(default_factory=set)

    @property
    def countries(self) -> tuple[str, ...]:
        """Where the infrastructure sits and where the victims are, sorted."""
        return tuple(sorted(set(self.hosting) | set(self.victims)))


class Pool:
    """Every observable of the world, column by column, with its outgoing edges."""

    def __init__(self) -> None:
        self.items: list[Item] = []
        self.threat: list[T] = []
        self.birth: list[int] = []
        self.owner: list[int] = []
        self.edges: list[list[tuple[str, int]]] = []
        self.index: dict[Item, int] = {}

    def add(self, kind: str, value: str, threat: T, birth: int, owner: int) -> int:
        """The index of the item, adding it when new."""
        key = (kind, value)
        found = self.index.get(key)
        if found is not None:
            return found
        self.index[key] = n = len(self.items)
        self.items.append(key)
        self.threat.append(threat)
        self.birth.append(birth)
        self.owner.append(owner)
        self.edges.append([])
        return n

    def link(self, source: int, rel: str, target: int) -> None:
        """Record a typed edge ``source -rel-> target``."""
        self.edges[source].append((rel, target))


class Builder:
    """Builds operations, hubs and noise into one pool from one seeded generator."""

    def __init__(self, rng: random.Random, scale: float) -> None:
        self.rng = rng
        self.scale = scale
        self.factor: float = max(0.08, min(1.0, scale) ** 0.5) * max(1.0, scale) ** 0.5
        self.pool = Pool()
        self.ops: list[Operation] = []
        self.cdn = [self.pool.add("ipv4", ip, T.BENIGN, 0, HUB) for ip in N.CDN_IPS]
        self.parking = [self.pool.add("domain", ns, T.BENIGN, 0, HUB) for ns in N.PARKING_NS]
        self.privacy = self.pool.add("email", N.PRIVACY_EMAIL, T.BENIGN, 0, HUB)
        self._aliases: set[str] = set()

    # -- small helpers ---------------------------------------------------------------
    def size(self, lo: int, hi: int, least: int = 4) -> int:
        """A scaled count drawn from ``lo..hi``, never below ``least``."""
        return max(least, round(self.rng.randint(lo, hi) * self.factor))

    def day(self, op: Operation) -> int:
        """A day inside the operation's active window."""
        return self.rng.randint(op.start, op.end)

    def add(self, op: Operation, kind: str, value: str, birth: int | None = None) -> int:
        """Add a member of the operation (first seen at ``birth`` or a random active day)."""
        n = self.pool.add(
            kind, value, op.threat, self.day(op) if birth is None else birth, op.index
        )
        if self.pool.owner[n] == op.index and n not in op.member_set:
            op.member_set.add(n)
            op.members.append(n)
        return n

    def domain(self, label: str | Callable[[], str], suffixes: tuple[str, ...]) -> str:
        """A domain name not used anywhere in the world yet."""
        for attempt in range(1000):
            extra = self.digits(1, 3) if attempt >= 20 else ""
            name = (
                f"{label if isinstance(label, str) else label()}{extra}.{self.rng.choice(suffixes)}"
            )
            if ("domain", name) not in self.pool.index:
                return name
        raise RuntimeError("the domain name space of the demo world is exhausted")

    def digits(self, lo: int = 1, hi: int = 3) -> str:
        """A short run of digits, sometimes empty."""
        return "".join(self.rng.choice(string.digits) for _ in range(self.rng.randint(lo, hi)))

    def suffixes(self, op: Operation, local: float) -> tuple[str, ...]:
        """Generic suffixes, plus the victims' country suffixes with weight ``local``."""
        own = tuple(s for c in op.victims for s in N.COUNTRY_SUFFIXES[c])
        weight = max(1, round(len(N.GENERIC_SUFFIXES) * local / (1 - local)))
        picks = self.rng.sample(own, min(len(own), 2)) if own else []
        return N.GENERIC_SUFFIXES[:6] + tuple(picks) * weight

    def ip(self, op: Operation) -> str:
        """An address in one of the operation's hosting countries."""
        return ids.ipv4(self.rng, self.rng.choice(N.HOSTING[self.rng.choice(op.hosting)]))

    def person_email(self) -> str:
        """A free-mail style address of an invented person."""
        r = self.rng
        return f"{r.choice(N.FIRST_NAMES)}.{r.choice(N.LAST_NAMES)}{self.digits(2, 4)}@{r.choice(N.MAIL_HOSTS)}"

    def spread(
        self,
        op: Operation,
        sources: list[int],
        rel: str,
        tag: str,
        want: int,
        make: Callable[[], tuple[str, str]],
    ) -> list[int]:
        """Make up to ``want`` targets and link every source to one, each target to ≥ 2."""
        k = max(1, min(want, len(sources) // 2))
        targets = [self.add(op, *make(), birth=op.start) for _ in range(k)]
        for i, s in enumerate(sources):
            self.pool.link(s, rel, targets[i % k])
        op.links.extend((tag, t) for t in targets)
        return targets

    def hosting(
        self, op: Operation, domains: list[int], ips: int, registrants: int = 2, tracking: int = 0
    ) -> None:
        """Shared addresses, name servers, registrants and tracking ids behind the domains."""
        r = self.rng
        self.spread(op, domains, "resolves-to", "ip", ips, lambda: ("ipv4", self.ip(op)))
        ns_label = (
            f"{r.choice(N.SYLLABLES)}{r.choice(N.SYLLABLES)}{r.choice(('dns', 'ns', 'host'))}"
        )
        ns_zone = self.domain(lambda: ns_label + self.digits(0, 2), ("com", "net", "xyz"))
        for server in ("ns1", "ns2"):
            ns = self.add(op, "domain", f"{server}.{ns_zone}", birth=op.start)
            for d in domains:
                self.pool.link(d, "uses-name-server", ns)
            op.links.append(("ns", ns))
        self.spread(
            op,
            domains,
            "registered-by",
            "registrant",
            registrants,
            lambda: ("email", self.person_email()),
        )
        if tracking:
            carriers = domains[: max(4, len(domains) // 3)]
            self.spread(
                op,
                carriers,
                "uses-tracking-id",
                "tracking-id",
                tracking,
                lambda: ("tracking-id", ids.tracking_id(r)),
            )
        self.pool.link(domains[-1], "resolves-to", self.cdn[0])  # every operation uses the CDN
        for i, d in enumerate(domains[:-1]):
            if i >= 4 and r.random() < 0.12:
                self.pool.link(d, "resolves-to", r.choice(self.cdn))
            if i >= 4 and r.random() < 0.06:
                self.pool.link(d, "uses-name-server", r.choice(self.parking))
            if i >= 4 and r.random() < 0.1:
                self.pool.link(d, "registered-by", self.privacy)

    def wallets(self, op: Operation, sources: list[int], want: int) -> None:
        """Bitcoin and Ethereum addresses the sources take payments to."""
        r = self.rng
        self.spread(
            op,
            sources,
            "receives-payments-to",
            "wallet",
            want,
            lambda: (
                ("btc-wallet", ids.btc_address(r))
                if r.random() < 0.6
                else ("eth-wallet", ids.eth_address(r))
            ),
        )

    # -- operations ------------------------------------------------------------------
    def operation(self, threat: T, number: int, tag: str) -> Operation:
        """A new operation with operator, countries and active window."""
        r = self.rng
        alias = f"{r.choice(N.OPERATOR_ADJECTIVES)} {r.choice(N.OPERATOR_ANIMALS)}"
        for attempt in range(1, 100):
            if alias not in self._aliases:
                break
            alias = f"{r.choice(N.OPERATOR_ADJECTIVES)} {r.choice(N.OPERATOR_ANIMALS)}"
            alias += f" {attempt}" if attempt > 50 else ""
        self._aliases.add(alias)
        victims = set(
            r.choices(list(VICTIM_WEIGHTS), list(VICTIM_WEIGHTS.values()), k=r.randint(1, 4))
        )
        hosting = tuple(sorted(r.sample(sorted(N.HOSTING), r.randint(1, 2))))
        start = r.randrange(0, DAYS - 40)
        end = min(DAYS - 1, start + r.randint(30, 120))
        op = Operation(
            len(self.ops),
            f"NET-{tag}-{number:03d}",
            threat,
            alias,
            hosting,
            tuple(sorted(victims)),
            start,
            end,
        )
        self.ops.append(op)
        from marsad.demo.recipes import RECIPES  # recipes import this module's Builder

        RECIPES[threat](self, op)
        return op

    # -- background ------------------------------------------------------------------
    def mule_iban(self) -> str:
        """A money-mule account number in one of the usual mule countries."""
        countries = list(MULE_IBAN_WEIGHTS)
        return ids.iban(self.rng, self.rng.choices(countries, list(MULE_IBAN_WEIGHTS.values()))[0])

    def noise_value(self, kind: str, threat: T, country: str | None = None) -> str:
        """One unrelated value of the given observable type that looks like its threat."""
        r = self.rng
        if kind in ("domain", "url"):
            words = {
                T.PIRACY: (N.STREAM_WORDS, N.STREAM_SUFFIXES),
                T.INVESTMENT_SCAM: (N.FIN_PREFIXES, N.FIN_SUFFIXES),
            }.get(threat, (N.SYLLABLES, N.PHISH_NOUNS))
            sfx = N.GENERIC_SUFFIXES + (
                N.COUNTRY_SUFFIXES[country]
                if country
                else r.choice(list(N.COUNTRY_SUFFIXES.values()))
            )
            host = self.domain(
                lambda: f"{r.choice(words[0])}{r.choice(words[1])}{self.digits(0, 3)}", sfx
            )
            if kind == "domain":
                return host
            if threat is T.MALWARE_DISTRIBUTION:
                return f"http://{host}/{r.choice(N.MALWARE_FILES)}.{r.choice(N.MALWARE_EXTS)}"
            if threat is T.PHISHING:
                return f"https://{host}/{r.choice(N.PHISH_TARGETS)}/{r.choice(N.PHISH_PATHS)}.php"
            return f"https://{host}/{r.choice(('index', 'home', 'join', 'watch'))}.html"
        if kind == "ipv4":
            return ids.ipv4(r, r.choice(r.choice(list(N.HOSTING.values()))))
        if kind == "sha256":
            return ids.sha256(r)
        if kind == "email":
            return self.person_email()
        if kind == "phone":
            return ids.phone(r, country or r.choice(list(VICTIM_WEIGHTS)))
        if kind == "iban":
            return self.mule_iban()
        return ids.btc_address(r) if kind == "btc-wallet" else ids.eth_address(r)

    def noise(self) -> None:
        """Unrelated single indicators, some of them behind the benign hubs."""
        r = self.rng
        kinds, weights = list(NOISE_MIX), list(NOISE_MIX.values())
        for kind in r.choices(kinds, weights, k=max(40, round(NOISE_AT_SCALE_1 * self.scale))):
            threat = r.choice(NOISE_THREATS[kind])
            n = self.pool.add(
                kind, self.noise_value(kind, threat), threat, r.randrange(DAYS), NOISE
            )
            if kind == "domain" and r.random() < 0.2:
                self.pool.link(n, "resolves-to", r.choice(self.cdn))
            elif kind == "domain" and r.random() < 0.1:
                self.pool.link(n, "uses-name-server", r.choice(self.parking))


def build_operations(rng: random.Random, scale: float) -> Builder:
    """Every operation of the world, then the background noise, into one pool."""
    builder = Builder(rng, scale)
    for threat, (count, tag) in OPERATIONS.items():
        for number in range(1, max(1, round(count * scale)) + 1):
            builder.operation(threat, number, tag)
    builder.noise()
    return builder
