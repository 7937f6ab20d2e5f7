"""Handling and grading that travel with every assertion.

TLP 2.0, PAP, releasability, Admiralty grading (source reliability A–F, information
credibility 1–6), purpose, retention. Handling belongs to the assertion, never to the
observable: one value can be TLP:RED from one source and TLP:CLEAR from another.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import msgspec


class TLP(StrEnum):
    """Traffic Light Protocol 2.0 labels, least to most restrictive."""

    CLEAR = "clear"
    GREEN = "green"
    AMBER = "amber"
    AMBER_STRICT = "amber+strict"
    RED = "red"

    @property
    def rank(self) -> int:
        return _TLP_ORDER.index(self)

    @property
    def label(self) -> str:
        return f"TLP:{self.value.upper()}"


_TLP_ORDER = (TLP.CLEAR, TLP.GREEN, TLP.AMBER, TLP.AMBER_STRICT, TLP.RED)


class PAP(StrEnum):
    """Permissible Actions Protocol, least to most restrictive."""

    CLEAR = "clear"
    GREEN = "green"
    AMBER = "amber"
    RED = "red"

    @property
    def rank(self) -> int:
        return _PAP_ORDER.index(self)

    @property
    def label(self) -> str:
        return f"PAP:{self.value.upper()}"


_PAP_ORDER = (PAP.CLEAR, PAP.GREEN, PAP.AMBER, PAP.RED)


class Purpose(StrEnum):
    """Why data may be processed: the fixed vocabulary of processing purposes."""

    INVESTIGATION_SUPPORT = "investigation-support"
    THREAT_ANALYSIS = "threat-analysis"
    PREVENTION_AND_AWARENESS = "prevention-and-awareness"
    OPERATIONAL_COORDINATION = "operational-coordination"
    VICTIM_NOTIFICATION = "victim-notification"


class Region(StrEnum):
    """The regions member organisations belong to."""

    AFRICA = "africa"
    AMERICAS = "americas"
    ASIA_SOUTH_PACIFIC = "asia-south-pacific"
    EUROPE = "europe"
    MENA = "middle-east-north-africa"


RELIABILITY = ("A", "B", "C", "D", "E", "F")
"""Admiralty source reliability: A completely reliable … E unreliable, F cannot be judged."""

CREDIBILITY = (1, 2, 3, 4, 5, 6)
"""Admiralty information credibility: 1 confirmed … 5 improbable, 6 cannot be judged."""


class HandlingError(ValueError):
    """A handling or grading value that is not in its vocabulary."""


class Releasability(msgspec.Struct, frozen=True):
    """Who, beyond what the TLP allows, the owner releases an assertion to.

    Empty means: the TLP alone decides.
    """

    organisations: tuple[str, ...] = ()
    regions: tuple[Region, ...] = ()
    all_members: bool = False
    partners: bool = False

    def tokens(self) -> list[str]:
        """The compact token form used on the command line and in storage."""
        out = [f"org:{o}" for o in self.organisations]
        out += [f"region:{r.value}" for r in self.regions]
        if self.all_members:
            out.append("members")
        if self.partners:
            out.append("partners")
        return out

    @classmethod
    def from_tokens(cls, tokens: list[str] | tuple[str, ...]) -> Releasability:
        """Parse ``org:NAME``, ``region:SLUG``, ``members`` and ``partners`` tokens."""
        orgs: list[str] = []
        regions: list[Region] = []
        members = partners = False
        for raw in tokens:
            token = raw.strip()
            if not token:
                continue
            if token in ("members", "all-members"):
                members = True
            elif token == "partners":
                partners = True
            elif token.startswith("org:") and token[4:]:
                orgs.append(token[4:])
            elif token.startswith("region:"):
                try:
                    regions.append(Region(token[7:]))
                except ValueError:
                    raise HandlingError(
                        f"unknown region {token[7:]!r}; expected one of "
                        + ", ".join(r.value for r in Region)
                    ) from None
            else:
                raise HandlingError(
                    f"unknown releasability {token!r}; use org:NAME, region:SLUG, members or partners"
                )
        return cls(tuple(sorted(set(orgs))), tuple(sorted(set(regions))), members, partners)


class Handling(msgspec.Struct, frozen=True):
    """The handling and grading of one assertion (or the defaults of a submission)."""

    tlp: TLP = TLP.AMBER
    pap: PAP = PAP.AMBER
    releasable_to: Releasability = Releasability()
    reliability: str = "F"
    credibility: int = 6
    purpose: Purpose = Purpose.THREAT_ANALYSIS
    retain_until: dt.date | None = None
    review_at: dt.date | None = None

    def __post_init__(self) -> None:
        if self.reliability not in RELIABILITY:
            raise HandlingError(f"source reliability must be one of A-F, got {self.reliability!r}")
        if self.credibility not in CREDIBILITY:
            raise HandlingError(
                f"information credibility must be one of 1-6, got {self.credibility!r}"
            )

    @property
    def grading(self) -> str:
        """Admiralty code, e.g. ``B2``."""
        return f"{self.reliability}{self.credibility}"


def stricter_tlp(a: TLP, b: TLP) -> TLP:
    """The more restrictive of two TLP labels."""
    return a if a.rank >= b.rank else b


def stricter_pap(a: PAP, b: PAP) -> PAP:
    """The more restrictive of two PAP labels."""
    return a if a.rank >= b.rank else b


def parse_tlp(text: str) -> TLP:
    """Accept ``amber``, ``TLP:AMBER``, ``amber+strict``, ``white`` (TLP 1.0 alias of CLEAR)."""
    t = text.strip().lower().removeprefix("tlp:").replace("_", "+").replace(" ", "")
    if t == "white":
        return TLP.CLEAR
    if t in ("amber-strict", "amberstrict"):
        return TLP.AMBER_STRICT
    try:
        return TLP(t)
    except ValueError:
        raise HandlingError(
            f"unknown TLP {text!r}; expected CLEAR, GREEN, AMBER, AMBER+STRICT or RED"
        ) from None


def parse_pap(text: str) -> PAP:
    """Accept ``green`` or ``PAP:GREEN`` (``white`` is the PAP 1.0 alias of CLEAR)."""
    t = text.strip().lower().removeprefix("pap:")
    if t == "white":
        return PAP.CLEAR
    try:
        return PAP(t)
    except ValueError:
        raise HandlingError(f"unknown PAP {text!r}; expected CLEAR, GREEN, AMBER or RED") from None
