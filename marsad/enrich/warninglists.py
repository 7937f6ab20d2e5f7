"""MISP warninglists compiled into fast matchers: flag known-benign values, never drop them.

Each list keeps MISP's own semantics (`app/Model/Warninglist.php`):

* ``cidr``: the address lies in one of the networks (IPv4 and IPv6, elementary intervals);
* ``string``: the value equals an entry (we compare case-insensitively);
* ``hostname``: the host equals an entry or is a subdomain of it (``a.b.example.com`` is
  in a list holding ``example.com``);
* ``substring``: MISP tests ``str_contains``; these lists hold domains and addresses, and
  we match them on label boundaries like ``hostname``, so that ``notexample.com`` is not
  taken for ``example.com``;
* ``regex``: the PCRE ``/pattern/flags`` entries, through Python's `re`.

A list applies to an observable type when its ``matching_attributes`` name a MISP
attribute type of ours (`MISP_ATTRIBUTES`), or when it names none. Entries that are IP
addresses in non-``cidr`` lists that apply to IPs join the interval index as single
addresses. The compiled form is a handful of numpy arrays (`parts`/`from_parts`), so the
shell can cache it on disk and map it back in milliseconds.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, NamedTuple

import msgspec
import numpy as np
from numpy.typing import NDArray

from marsad.enrich.columns import I64, chunks, unique_pairs
from marsad.enrich.ipranges import RangeIndex, build_range_index, covering, match_points
from marsad.enrich.iputil import parse_ipv4, parse_ipv6, v6_key
from marsad.enrich.names import EXACT, SUFFIX, NameTable, build_name_table, key_text, match_names
from marsad.formats.gcpause import gc_paused
from marsad.model.observable import ObservableType

FORMAT: Final = 1  # bump when the compiled arrays or the matching change: caches are keyed by it
T = ObservableType
_IP = frozenset({"ip-src", "ip-dst", "ip-src|port", "ip-dst|port", "domain|ip"})
MISP_ATTRIBUTES: Final[dict[ObservableType, frozenset[str]]] = {
    T.IPV4: _IP,
    T.IPV6: _IP,
    T.CIDR: _IP,
    T.DOMAIN: frozenset({"domain", "hostname", "domain|ip", "hostname|port"}),
    T.URL: frozenset({"url", "uri", "link"}),
    T.EMAIL: frozenset(
        {
            "email",
            "email-src",
            "email-dst",
            "target-email",
            "whois-registrant-email",
            "dns-soa-email",
        }
    ),
    T.MD5: frozenset({"md5", "filename|md5"}),
    T.SHA1: frozenset({"sha1", "filename|sha1", "x509-fingerprint-sha1"}),
    T.SHA256: frozenset({"sha256", "filename|sha256"}),
    T.SHA512: frozenset({"sha512", "filename|sha512"}),
    T.SSDEEP: frozenset({"ssdeep", "filename|ssdeep"}),
    T.TLS_SHA256: frozenset({"x509-fingerprint-sha256"}),
    T.PHONE: frozenset({"phone-number", "whois-registrant-phone"}),
}
_IPV4_TEXT = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_REGEX_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}


class WarningList(msgspec.Struct, frozen=True):
    """One list as compiled: what it is and how many of its entries could be used."""

    id: int
    name: str
    type: str
    description: str
    version: int
    attributes: tuple[str, ...]
    entries: int
    skipped: int


class WarninglistHit(msgspec.Struct, frozen=True):
    """A value found on a list: the list's name and type, and the entry that matched."""

    name: str
    type: str
    matched: str | None


class Hits(NamedTuple):
    """Columnar result: value number ``value[i]`` is on list ``list_id[i]`` (through key
    ``key[i]`` of the name table, or -1); sorted by value, then list."""

    value: I64
    list_id: I64
    key: I64


class WarninglistMatcher:
    """All lists, compiled; `match` for columns, `lookup` for one value."""

    def __init__(
        self,
        lists: Sequence[WarningList],
        names: NameTable,
        v4: RangeIndex,
        v6: RangeIndex,
        regexes: Sequence[tuple[int, str, int]],
    ) -> None:
        self.lists = tuple(lists)
        self.names = names
        self.v4 = v4
        self.v6 = v6
        self.regex_source = tuple(regexes)
        self._regexes = [(lid, re.compile(p, f)) for lid, p, f in regexes]
        self._masks = {kind: self._mask(attrs) for kind, attrs in MISP_ATTRIBUTES.items()}
        self._all = self._mask(frozenset())

    def _mask(self, attrs: frozenset[str]) -> NDArray[np.bool_]:
        return np.array(
            [not wl.attributes or bool(attrs.intersection(wl.attributes)) for wl in self.lists],
            dtype=np.bool_,
        )

    def applicable(self, kind: ObservableType) -> list[WarningList]:
        """The lists that apply to values of ``kind``."""
        mask = self._masks.get(kind, self._all)
        return [wl for wl in self.lists if mask[wl.id]]

    def match(self, kind: ObservableType, values: Sequence[str]) -> Hits:
        """Every (value, list) hit for a column of normalised values of one type."""
        found: list[tuple[I64, I64, I64]] = []
        for lo, hi in chunks(len(values)):
            for index, list_id, key in self._chunk(kind, values[lo:hi]):
                found.append((index + lo, list_id, key))
        if not found:
            empty = np.zeros(0, dtype=np.int64)
            return Hits(empty, empty, empty)
        index = np.concatenate([f[0] for f in found])
        list_id = np.concatenate([f[1] for f in found])
        key = np.concatenate([f[2] for f in found])
        keep = self._masks.get(kind, self._all)[list_id]
        index, list_id, first = unique_pairs(index[keep], list_id[keep], len(self.lists))
        return Hits(index, list_id, key[keep][first])

    def lookup(self, kind: ObservableType, value: str) -> list[WarninglistHit]:
        """The lists one value is on, each with the entry that matched (when known)."""
        hits = self.match(kind, [value])
        return [
            WarninglistHit(
                self.lists[lid].name,
                self.lists[lid].type,
                key_text(self.names, key) if key >= 0 else None,
            )
            for lid, key in zip(hits.list_id.tolist(), hits.key.tolist(), strict=True)
        ]

    def names_per_value(self, hits: Hits, n: int) -> list[list[str]]:
        """Row form of `match`: for each of ``n`` values, the names of its lists."""
        with gc_paused():  # a million small lists, no cycles
            out: list[list[str]] = [[] for _ in range(n)]
            if not len(hits.value):
                return out
            names = [wl.name for wl in self.lists]
            flat = [names[i] for i in hits.list_id.tolist()]
            first = np.flatnonzero(np.r_[True, hits.value[1:] != hits.value[:-1]])
            bounds = [*first.tolist(), len(flat)]
            for value, lo, hi in zip(hits.value[first].tolist(), bounds, bounds[1:], strict=False):
                out[value] = flat[lo:hi]
            return out

    def _chunk(self, kind: ObservableType, values: Sequence[str]) -> list[tuple[I64, I64, I64]]:
        def none(pairs: tuple[I64, I64]) -> tuple[I64, I64, I64]:
            return pairs[0], pairs[1], np.full(len(pairs[0]), -1, dtype=np.int64)

        if kind is T.IPV4:
            return [none(match_points(self.v4, *parse_ipv4(values)))]
        if kind is T.IPV6:
            return [none(match_points(self.v6, *parse_ipv6(values)))]
        if kind is T.CIDR:
            return [none(self._networks(values))]
        if kind is T.DOMAIN:
            return [match_names(self.names, values, suffixes=True, whole_modes=EXACT | SUFFIX)]
        out: list[tuple[I64, I64, I64]] = [
            match_names(self.names, values, suffixes=False, whole_modes=EXACT)
        ]
        if kind is T.URL:
            hosts = [_url_host(v) for v in values]
            out.append(match_names(self.names, hosts, suffixes=True, whole_modes=SUFFIX))
        elif kind is T.EMAIL:
            domains = [v.rpartition("@")[2] for v in values]
            out.append(match_names(self.names, domains, suffixes=True, whole_modes=SUFFIX))
        if kind in (T.EMAIL, T.PHONE) or kind not in MISP_ATTRIBUTES:
            out.append(none(self._regex(values)))
        return out

    def _regex(self, values: Sequence[str]) -> tuple[I64, I64]:
        pairs = [
            (i, lid) for i, v in enumerate(values) for lid, rx in self._regexes if rx.search(v)
        ]
        return _pairs(pairs)

    def _networks(self, values: Sequence[str]) -> tuple[I64, I64]:
        pairs: list[tuple[int, int]] = []
        for i, text in enumerate(values):
            try:
                net = ipaddress.ip_network(text, strict=False)
            except ValueError:
                continue
            first, last = int(net.network_address), int(net.broadcast_address)
            if net.version == 4:
                lists = covering(self.v4, np.uint32(first), np.uint32(last))
            else:
                lists = covering(self.v6, np.bytes_(v6_key(first)), np.bytes_(v6_key(last)))
            pairs += [(i, lid) for lid in sorted(lists)]
        return _pairs(pairs)

    def parts(self) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
        """The compiled form: JSON-able metadata and named arrays (for a cache on disk)."""
        meta = {
            "format": FORMAT,
            "base": self.names.base,
            "lists": msgspec.to_builtins(self.lists),
            "regexes": [list(r) for r in self.regex_source],
        }
        arrays: dict[str, NDArray[Any]] = {
            f"names_{f}": v for f, v in self.names._asdict().items() if f != "base"
        }
        for family, index in (("v4", self.v4), ("v6", self.v6)):
            arrays.update({f"{family}_{f}": v for f, v in index._asdict().items()})
        return meta, arrays

    @classmethod
    def from_parts(
        cls, meta: Mapping[str, Any], arrays: Mapping[str, NDArray[Any]]
    ) -> WarninglistMatcher:
        """Rebuild a matcher from `parts` (arrays may be memory-mapped)."""
        if meta.get("format") != FORMAT:
            raise ValueError(f"compiled warninglists of format {meta.get('format')}, need {FORMAT}")
        names = NameTable(int(meta["base"]), *(arrays[f"names_{f}"] for f in NameTable._fields[1:]))
        v4, v6 = (
            RangeIndex(*(arrays[f"{fam}_{f}"] for f in RangeIndex._fields)) for fam in ("v4", "v6")
        )
        lists = msgspec.convert(meta["lists"], list[WarningList])
        regexes = [(int(a), str(b), int(c)) for a, b, c in meta["regexes"]]
        return cls(lists, names, v4, v6, regexes)


def _pairs(pairs: list[tuple[int, int]]) -> tuple[I64, I64]:
    if not pairs:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    arr = np.array(pairs, dtype=np.int64)
    return arr[:, 0], arr[:, 1]


def _url_host(url: str) -> str:
    """The host of a URL (no user, port or brackets); '' when there is none."""
    rest = url.partition("://")[2]
    authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rpartition("@")[2]
    if authority.startswith("["):
        return authority[1:].partition("]")[0]
    return authority.partition(":")[0]


def _regex(entry: str) -> tuple[str, int] | None:
    """A PCRE ``/pattern/flags`` entry as a Python pattern and flags; None when invalid."""
    pattern, flags = entry, 0
    if entry.startswith("/") and entry.rfind("/") > 0:
        cut = entry.rfind("/")
        pattern = entry[1:cut]
        for letter in entry[cut + 1 :]:
            flags |= _REGEX_FLAGS.get(letter, 0)
    try:
        re.compile(pattern, flags)
    except re.error:
        return None
    return pattern, flags


def _networks_v4(texts: list[str]) -> tuple[list[int], list[int], int]:
    """IPv4 ``a.b.c.d[/n]`` entries to inclusive ranges, in bulk; also the bad count."""
    addrs, _, plens = (
        zip(*(t.partition("/") for t in texts), strict=True) if texts else ((), (), ())
    )
    ints, ok = parse_ipv4(list(addrs))
    bits = np.array(
        [int(p) if p.isdigit() else (32 if not p else -1) for p in plens], dtype=np.int64
    )
    ok &= (bits >= 0) & (bits <= 32)
    host = (np.uint64(1) << (32 - np.clip(bits, 0, 32)).astype(np.uint64)) - np.uint64(1)
    first = ints.astype(np.uint64) & ~host & np.uint64(0xFFFFFFFF)
    last = first | host
    return first[ok].tolist(), last[ok].tolist(), int(np.count_nonzero(~ok))


class _Builder:
    """Collects entries list by list (in bulk), then builds the three indexes."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.text_list: list[NDArray[np.int64]] = []
        self.text_mode: list[NDArray[np.uint8]] = []
        self.ranges: dict[int, tuple[list[int], list[int], list[int]]] = {
            4: ([], [], []),
            6: ([], [], []),
        }
        self.regexes: list[tuple[int, str, int]] = []

    def add_ranges(self, version: int, first: list[int], last: list[int], list_id: int) -> None:
        starts, ends, ids = self.ranges[version]
        starts += first
        ends += last
        ids += [list_id] * len(first)

    def add_networks(self, list_id: int, entries: list[str]) -> int:
        v4 = [e for e in entries if ":" not in e]
        first, last, bad = _networks_v4(v4)
        self.add_ranges(4, first, last, list_id)
        skipped = bad
        for entry in entries:
            if ":" not in entry:
                continue
            try:
                net = ipaddress.IPv6Network(entry, strict=False)
            except ValueError:
                skipped += 1
                continue
            self.add_ranges(6, [int(net.network_address)], [int(net.broadcast_address)], list_id)
        return skipped

    def add(self, list_id: int, kind: str, entries: list[str], ips: bool) -> int:
        """Add one list's entries; the number skipped as unusable."""
        entries = [e.strip() for e in entries]
        if kind == "cidr":
            return self.add_networks(list_id, entries)
        if kind == "regex":
            compiled = [_regex(e) for e in entries]
            self.regexes += [(list_id, *c) for c in compiled if c is not None]
            return compiled.count(None)
        if kind not in ("string", "hostname", "substring"):
            return len(entries)
        mode = EXACT if kind == "string" else SUFFIX
        texts = list(map(str.lower, entries))
        if mode == SUFFIX:
            texts = [t.strip(".") for t in texts]
        texts = [t for t in texts if t]
        if ips:
            dotted = list(filter(_IPV4_TEXT.fullmatch, texts))
            first, last, _ = _networks_v4(dotted)
            self.add_ranges(4, first, last, list_id)
            for text in (t for t in texts if ":" in t):
                try:
                    number = int(ipaddress.IPv6Address(text))
                except ValueError:
                    continue
                self.add_ranges(6, [number], [number], list_id)
        self.texts += texts
        self.text_list.append(np.full(len(texts), list_id, dtype=np.int64))
        self.text_mode.append(np.full(len(texts), mode, dtype=np.uint8))
        return len(entries) - len(texts)

    def names(self) -> NameTable:
        lists = np.concatenate([np.zeros(0, dtype=np.int64), *self.text_list])
        modes = np.concatenate([np.zeros(0, dtype=np.uint8), *self.text_mode])
        return build_name_table(self.texts, lists, modes)

    def index(self, version: int) -> RangeIndex:
        starts, ends, ids = self.ranges[version]
        return build_range_index(starts, ends, ids, 32 if version == 4 else 128)


def compile_warninglists(raw_lists: Iterable[Mapping[str, Any]]) -> WarninglistMatcher:
    """Compile MISP ``list.json`` documents (as loaded) into a matcher; list ids follow
    the order of the names."""
    with gc_paused():  # millions of entry strings, no cycles among them
        return _compile(sorted(raw_lists, key=lambda d: str(d.get("name", ""))))


def _compile(ordered: list[Mapping[str, Any]]) -> WarninglistMatcher:
    builder = _Builder()
    infos: list[WarningList] = []
    for list_id, doc in enumerate(ordered):
        raw_entries = doc.get("list") or []
        entries = [
            str(e) for e in (raw_entries.keys() if isinstance(raw_entries, dict) else raw_entries)
        ]
        attrs = tuple(str(a) for a in doc.get("matching_attributes") or ())
        kind = str(doc.get("type") or "string")
        ips = not attrs or bool(_IP.intersection(attrs))
        skipped = builder.add(list_id, kind, entries, ips)
        infos.append(
            WarningList(
                id=list_id,
                name=str(doc.get("name", "")),
                type=kind,
                description=str(doc.get("description", "")),
                version=int(doc.get("version") or 0),
                attributes=attrs,
                entries=len(entries),
                skipped=skipped,
            )
        )
    return WarninglistMatcher(
        infos, builder.names(), builder.index(4), builder.index(6), builder.regexes
    )
