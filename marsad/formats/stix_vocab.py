"""STIX 2.1 vocabulary tables shared by the parser and the exporter.

Marking-definition ids are the published ones (TLP 1.0: STIX 2.1 §7.2.1.4; TLP 2.0:
oasis-open/cti-stix-common-objects ``extension-definition-specifications/tlp-2.0``).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Final

from marsad.model.errors import InvalidObservable
from marsad.model.handling import TLP, Handling, Purpose, Releasability, parse_pap
from marsad.model.normalize import detect, observable
from marsad.model.observable import Observable
from marsad.model.observable import ObservableType as O
from marsad.model.records import ThreatType as T

TLP2_EXTENSION_ID: Final = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_CREATED: Final = "2022-10-01T00:00:00.000Z"
TLP2_MARKING_IDS: Final[dict[TLP, str]] = {
    TLP.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    TLP.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    TLP.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    TLP.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    TLP.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP1_MARKING_IDS: Final[dict[str, TLP]] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": TLP.CLEAR,  # white
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": TLP.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": TLP.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": TLP.RED,
}
STANDARD_TLP_MARKINGS: Final[dict[str, TLP]] = {
    **{v: k for k, v in TLP2_MARKING_IDS.items()},
    **TLP1_MARKING_IDS,
}

# Our property-extension carrying the handling STIX has no place for.
MARSAD_EXTENSION_ID: Final = "extension-definition--3c0f4a1e-6d2b-4f5e-9a7c-8b1d2e3f4a5b"
MARSAD_EXTENSION_SCHEMA: Final = "https://marsad.readthedocs.io/en/latest/stix-extension.html"

INDICATOR_TYPE_THREAT: Final[dict[str, T]] = {
    "malicious-activity": T.MALICIOUS_ACTIVITY,
    "attribution": T.MALICIOUS_ACTIVITY,
    "anomalous-activity": T.UNKNOWN,
    "unknown": T.UNKNOWN,
    "anonymization": T.ANONYMIZATION,
    "benign": T.BENIGN,
    "compromised": T.COMPROMISED,
}
# indicator_types that say more than "bad": they win over name keywords.
SPECIFIC_INDICATOR_TYPES: Final = frozenset({"anonymization", "benign", "compromised"})

MALWARE_TYPE_THREAT: Final[dict[str, T]] = {
    "ransomware": T.RANSOMWARE,
    "bot": T.BOTNET,
    "ddos": T.BOTNET,
}

# Label words other producers use (MISP galaxies, OpenCTI, feeds) beyond our own values.
LABEL_THREAT: Final[dict[str, T]] = {
    **{t.value: t for t in T},
    "command-and-control": T.C2,
    "c&c": T.C2,
    "cc": T.C2,
    "botnet-cc": T.C2,
    "phish": T.PHISHING,
    "malware-download": T.MALWARE_DISTRIBUTION,
    "payload-delivery": T.MALWARE_DISTRIBUTION,
    "scam": T.FRAUD,
    "tor": T.ANONYMIZATION,
    "proxy": T.ANONYMIZATION,
    "vpn": T.ANONYMIZATION,
    "scanner": T.SCANNING,
    "bruteforce": T.BRUTE_FORCE,
}

NAME_KEYWORDS: Final[tuple[tuple[str, T], ...]] = (
    ("phish", T.PHISHING),
    ("command and control", T.C2),
    ("command-and-control", T.C2),
    ("c2", T.C2),
    ("c&c", T.C2),
    ("ransomware", T.RANSOMWARE),
    ("botnet", T.BOTNET),
    ("scam", T.FRAUD),
    ("spam", T.SPAM),
    ("brute", T.BRUTE_FORCE),
    ("scan", T.SCANNING),
    ("exploit", T.EXPLOITATION),
    ("piracy", T.PIRACY),
    ("malware", T.MALWARE),
)

# One lookbehind before one alternation, searched in lower-cased text: several times
# faster than an alternation of lookbehinds with IGNORECASE on the hot path. The leading
# lookahead for the keywords' first letters lets the regex engine skip to candidate
# positions (about half the time of the same search without it).
_KEYWORDS: Final = re.compile(
    "(?=[" + "".join(sorted({re.escape(k[0]) for k, _ in NAME_KEYWORDS})) + "])"
    "(?<![a-z0-9])(" + "|".join(re.escape(k) for k, _ in NAME_KEYWORDS) + ")"
)
_KEYWORD_THREAT: Final = dict(NAME_KEYWORDS)


def keyword_threat(text: str) -> T | None:
    """The threat type the first threat keyword of a name or title names, if any."""
    m = _KEYWORDS.search(text.lower())
    return _KEYWORD_THREAT[m.group(1)] if m is not None else None


def keyword_threats(texts: list[str | None]) -> list[T | None]:
    """`keyword_threat` of each text (None for None), by one search over all of them.

    The texts are searched joined by NUL, which no keyword holds and which, like the
    start of a text, is no letter or digit before one; lower-casing the joined text is
    lower-casing each (Python's one context rule, the final sigma, stops at a NUL as at
    the text's end). A text holding a NUL itself is searched on its own.
    """
    out: list[T | None] = [None] * len(texts)
    joined = "\0".join([t or "" for t in texts]).lower()
    if joined.count("\0") != len(texts) - 1:
        return [keyword_threat(t) if t is not None else None for t in texts]
    row = at = 0
    for m in _KEYWORDS.finditer(joined):
        start = m.start()
        row += joined.count("\0", at, start)
        at = start
        if out[row] is None:  # the row's first keyword
            out[row] = _KEYWORD_THREAT[m.group(1)]
    return out


KILL_CHAIN_THREAT: Final[dict[str, T]] = {
    "command-and-control": T.C2,
    "exploitation": T.EXPLOITATION,
    "installation": T.MALWARE,
}

# (SCO type, property path with quotes removed) -> observable type; None: auto-detect.
PATTERN_PATHS: Final[dict[tuple[str, str], O | None]] = {
    ("ipv4-addr", "value"): O.IPV4,
    ("ipv6-addr", "value"): O.IPV6,
    ("domain-name", "value"): O.DOMAIN,
    ("url", "value"): O.URL,
    ("email-addr", "value"): O.EMAIL,
    ("email-message", "from_ref.value"): O.EMAIL,
    ("email-message", "sender_ref.value"): O.EMAIL,
    ("autonomous-system", "number"): O.ASN,
    ("cryptocurrency-wallet", "value"): None,
    ("phone-number", "value"): O.PHONE,
    ("bank-account", "iban"): O.IBAN,
    ("x-marsad-tracking-id", "value"): O.TRACKING_ID,
    ("network-traffic", "dst_ref.value"): None,
    ("network-traffic", "src_ref.value"): None,
}
HASH_TYPES: Final[dict[str, O]] = {
    "MD5": O.MD5,
    "SHA1": O.SHA1,
    "SHA256": O.SHA256,
    "SHA512": O.SHA512,
    "SSDEEP": O.SSDEEP,
    "TLSH": O.TLSH,
}
HASHED_SCOS: Final = frozenset({"file", "artifact"})
WALLETS: Final = frozenset({O.BTC_WALLET, O.ETH_WALLET, O.TRX_WALLET, O.LTC_WALLET, O.XMR_WALLET})
UNKNOWN_PATH: Final = object()
_path_cache: dict[tuple[str, str], Any] = {}

SCO_TYPES: Final = frozenset(
    {
        "artifact",
        "autonomous-system",
        "directory",
        "domain-name",
        "email-addr",
        "email-message",
        "file",
        "ipv4-addr",
        "ipv6-addr",
        "mac-addr",
        "mutex",
        "network-traffic",
        "process",
        "software",
        "url",
        "user-account",
        "windows-registry-key",
        "x509-certificate",
        "cryptocurrency-wallet",
        "phone-number",
        "bank-account",
        "x-marsad-tracking-id",
    }
)
# SCOs whose single value property names an observable: type -> (property, observable type).
VALUE_SCOS: Final[dict[str, tuple[str, O | None]]] = {
    "ipv4-addr": ("value", O.IPV4),
    "ipv6-addr": ("value", O.IPV6),
    "domain-name": ("value", O.DOMAIN),
    "url": ("value", O.URL),
    "email-addr": ("value", O.EMAIL),
    "autonomous-system": ("number", O.ASN),
    "cryptocurrency-wallet": ("value", None),
    "phone-number": ("value", O.PHONE),
    "bank-account": ("iban", O.IBAN),
    "x-marsad-tracking-id": ("value", O.TRACKING_ID),
}
# SCO properties that hold references to other SCOs, and the relationship they mean.
SCO_REF_PROPS: Final[dict[str, str]] = {
    "resolves_to_refs": "resolves-to",
    "belongs_to_refs": "belongs-to",
}

# Export: observable type -> (SCO type, pattern property path, STIX hash name or None).
EXPORT_PATHS: Final[dict[O, tuple[str, str, str | None]]] = {
    O.IPV4: ("ipv4-addr", "value", None),
    O.IPV6: ("ipv6-addr", "value", None),
    O.DOMAIN: ("domain-name", "value", None),
    O.ONION: ("domain-name", "value", None),
    O.URL: ("url", "value", None),
    O.EMAIL: ("email-addr", "value", None),
    O.MD5: ("file", "hashes.MD5", "MD5"),
    O.SHA1: ("file", "hashes.'SHA-1'", "SHA-1"),
    O.SHA256: ("file", "hashes.'SHA-256'", "SHA-256"),
    O.SHA512: ("file", "hashes.'SHA-512'", "SHA-512"),
    O.SSDEEP: ("file", "hashes.SSDEEP", "SSDEEP"),
    O.TLSH: ("file", "hashes.TLSH", "TLSH"),
    O.TLS_SHA256: ("x509-certificate", "hashes.'SHA-256'", "SHA-256"),
    O.ASN: ("autonomous-system", "number", None),
    O.BTC_WALLET: ("cryptocurrency-wallet", "value", None),
    O.ETH_WALLET: ("cryptocurrency-wallet", "value", None),
    O.TRX_WALLET: ("cryptocurrency-wallet", "value", None),
    O.LTC_WALLET: ("cryptocurrency-wallet", "value", None),
    O.XMR_WALLET: ("cryptocurrency-wallet", "value", None),
    O.PHONE: ("phone-number", "value", None),
    O.IBAN: ("bank-account", "iban", None),
    O.TRACKING_ID: ("x-marsad-tracking-id", "value", None),
}
EXPORT_INDICATOR_TYPES: Final[dict[T, str]] = {
    T.BENIGN: "benign",
    T.COMPROMISED: "compromised",
    T.ANONYMIZATION: "anonymization",
    T.UNKNOWN: "unknown",
    T.VULNERABLE: "unknown",  # a victim's exposed service; the label keeps "vulnerable"
}  # everything else: malicious-activity

# Properties that become record fields, so they are left out of entity attributes.
ENTITY_FIELDS: Final = frozenset(
    {
        "type",
        "id",
        "spec_version",
        "name",
        "description",
        "object_marking_refs",
        "first_seen",
        "last_seen",
    }
)


def tlp2_marking(tlp: TLP) -> dict[str, Any]:
    """The standard TLP 2.0 marking-definition object, exactly as published."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_MARKING_IDS[tlp],
        "created": TLP2_CREATED,
        "name": tlp.label,
        "extensions": {
            TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": tlp.value}
        },
    }


def resolve_path(sco: str, path: str) -> Any:
    """The observable type a pattern path names (None: auto-detect), else UNKNOWN_PATH."""
    key = (sco, path)
    found = _path_cache.get(key, UNKNOWN_PATH)
    if found is UNKNOWN_PATH and len(_path_cache) < 4096:
        found = PATTERN_PATHS.get(key, UNKNOWN_PATH)
        if found is UNKNOWN_PATH and path.startswith("hashes."):
            found = hash_type(sco, path[7:]) or UNKNOWN_PATH
        _path_cache[key] = found
    return found


def hash_type(sco: str, name: str) -> O | None:
    """The observable type of a STIX hash name on an SCO type, else None."""
    kind = HASH_TYPES.get(name.upper().replace("-", "").replace("_", ""))
    if sco == "x509-certificate":
        return O.TLS_SHA256 if kind is O.SHA256 else None
    return kind if sco in HASHED_SCOS else None


def make_observable(kind: O | None, value: str, sco: str = "") -> Observable:
    """Normalise one value; CIDR, onion and the wallet chain refine what the STIX type says."""
    if kind is None:
        found: Observable | None = detect(value)
        if found is None or (sco == "cryptocurrency-wallet" and found.type not in WALLETS):
            what = "wallet address" if sco == "cryptocurrency-wallet" else "observable"
            raise InvalidObservable(sco or "observable", value, f"not a recognised {what}")
        return found
    if kind is O.IPV4 or kind is O.IPV6:
        if "/" in value:
            kind = O.CIDR
    elif kind is O.DOMAIN and value.rstrip(".").lower().endswith(".onion"):
        kind = O.ONION
    made: Observable = observable(kind, value)
    return made


def fallback_name(o: dict[str, Any], kind: str) -> str:
    """A readable name for objects STIX does not require to have one."""
    if kind == "observed-data":
        return f"observed-data {o.get('first_observed', '')}".strip()
    if kind == "location":
        parts = [o.get(k) for k in ("city", "administrative_area", "region", "country")]
        return ", ".join(str(p) for p in parts if p) or str(o.get("id"))
    for key in ("abstract", "opinion", "pattern", "content", "definition_type", "value"):
        if isinstance(o.get(key), str) and o[key]:
            return str(o[key])[:200]
    return str(o.get("id") or kind)


EXTENSION_KEYS: Final = (
    "pap",
    "reliability",
    "credibility",
    "purpose",
    "releasable_to",
    "retain_until",
    "review_at",
)


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(str(value)[:10]) if value else None


def handling_from_extension(tlp: TLP, ext: dict[str, Any]) -> Handling:
    """Full handling from our property-extension; a bad value raises HandlingError."""
    defaults = Handling()
    return Handling(
        tlp=tlp,
        pap=parse_pap(str(ext["pap"])) if ext.get("pap") else defaults.pap,
        releasable_to=Releasability.from_tokens(list(ext.get("releasable_to") or ())),
        reliability=str(ext.get("reliability", defaults.reliability)),
        credibility=int(ext.get("credibility", defaults.credibility)),
        purpose=Purpose(ext["purpose"]) if ext.get("purpose") else defaults.purpose,
        retain_until=_date(ext.get("retain_until")),
        review_at=_date(ext.get("review_at")),
    )


def handling_extension(handling: Handling) -> dict[str, Any]:
    """Our property-extension for the handling STIX markings cannot say."""
    ext: dict[str, Any] = {
        "extension_type": "property-extension",
        "pap": handling.pap.value,
        "reliability": handling.reliability,
        "credibility": handling.credibility,
        "purpose": handling.purpose.value,
    }
    if tokens := handling.releasable_to.tokens():
        ext["releasable_to"] = tokens
    if handling.retain_until is not None:
        ext["retain_until"] = handling.retain_until.isoformat()
    if handling.review_at is not None:
        ext["review_at"] = handling.review_at.isoformat()
    return ext
