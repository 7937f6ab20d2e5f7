"""The compiled MISP warninglists against the real lists and against pymispwarninglists."""

from __future__ import annotations

import ipaddress
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pymispwarninglists import WarningLists

from marsad.enrich.loaders import load_warninglists
from marsad.enrich.names import NameTable, match_names
from marsad.enrich.warninglists import WarninglistMatcher, compile_warninglists
from marsad.model.normalize import detect
from marsad.model.observable import ObservableType as T

# pymispwarninglists scans hostname lists entry by entry and builds a Python trie per CIDR
# list (18 s for the two biggest): keep lists above this size out of the peer.
PEER_MAX = 5_000


def _peer_lists(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Lists whose pymispwarninglists semantics equal MISP's own (and ours): string lists,
    cidr and hostname lists up to PEER_MAX entries. Substring and regex lists differ there by design (see module doc)."""
    return [
        d
        for d in documents
        if d["type"] == "string"
        or (d["type"] in ("cidr", "hostname") and len(d["list"]) <= PEER_MAX)
    ]


def _samples(documents: list[dict[str, Any]], rng: random.Random) -> list[str]:
    values: list[str] = []
    for doc in documents:
        entries = [str(e) for e in doc["list"]]
        for entry in rng.sample(entries, min(4, len(entries))):
            if doc["type"] == "cidr":
                try:
                    net = ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    continue
                values += [
                    str(net.network_address),
                    str(net.network_address + net.num_addresses // 2),
                ]
                if int(net.broadcast_address) < (1 << net.max_prefixlen) - 1:
                    values.append(str(net.broadcast_address + 1))
            elif doc["type"] == "hostname":
                name = entry.strip(".")
                values += ["www." + name, "x" + name]
                if not entry.startswith("."):
                    values.append(name)
            else:
                values.append(entry)
    for _ in range(300):
        values.append(str(ipaddress.IPv4Address(rng.getrandbits(32))))
        values.append(f"{rng.getrandbits(32):x}.example-{rng.randrange(100)}.com")
    return values


def test_same_hits_as_pymispwarninglists_on_sampled_real_values(
    matcher: WarninglistMatcher, documents: list[dict[str, Any]]
) -> None:
    """Every sampled value (entries, addresses inside and just outside each network,
    subdomains, look-alikes, random values) gets the same lists from both."""
    lists = _peer_lists(documents)
    names = {d["name"] for d in lists}
    peer = WarningLists(slow_search=True, lists=lists)
    checked = 0
    for value in _samples(lists, random.Random(5)):
        obs = detect(value)
        if obs is None or obs.value != value:
            continue
        applicable = {w.name for w in matcher.applicable(obs.type)} & names
        theirs = {w.name for w in peer.search(value)} & applicable
        ours = {h.name for h in matcher.lookup(obs.type, value)} & names
        assert ours == theirs, value
        checked += 1
    assert checked > 600


def test_known_values_name_their_list(matcher: WarninglistMatcher) -> None:
    resolvers = {h.name: h.type for h in matcher.lookup(T.IPV4, "8.8.8.8")}
    assert resolvers["List of known IPv4 public DNS resolvers"] == "cidr"
    assert "List of RFC 1918 CIDR blocks" in {h.name for h in matcher.lookup(T.IPV4, "10.20.30.40")}
    assert "List of known IPv6 public DNS resolvers" in {
        h.name for h in matcher.lookup(T.IPV6, "2001:4860:4860::8888")
    }
    assert {h.name for h in matcher.lookup(T.CIDR, "192.168.0.0/16")} >= {
        "List of RFC 1918 CIDR blocks"
    }
    assert matcher.lookup(T.CIDR, "8.0.0.0/6") == []  # wider than any listed network


def test_hostname_lists_match_subdomains_on_label_boundaries(
    matcher: WarninglistMatcher, documents: list[dict[str, Any]]
) -> None:
    tranco = next(d for d in documents if d["name"].startswith("Top 1,000,000 most-used"))
    assert "github.com" in tranco["list"] and "kgithub.com" not in tranco["list"]
    name = tranco["name"]
    hit = {h.name: h.matched for h in matcher.lookup(T.DOMAIN, "a.b.github.com")}
    assert hit[name] == "github.com"
    assert name not in {h.name for h in matcher.lookup(T.DOMAIN, "kgithub.com")}


def test_substring_lists_are_matched_on_label_boundaries(matcher: WarninglistMatcher) -> None:
    disposable = "List of disposable email domains"
    assert disposable in {h.name for h in matcher.lookup(T.EMAIL, "someone@mail.0-mail.com")}
    assert disposable not in {
        h.name for h in matcher.lookup(T.EMAIL, "someone@x0-mail.com.example.org")
    }


def test_lists_apply_only_to_their_attribute_types(matcher: WarninglistMatcher) -> None:
    empty_md5 = "d41d8cd98f00b204e9800998ecf8427e"
    assert "List of known hashes for empty files" in {
        h.name for h in matcher.lookup(T.MD5, empty_md5)
    }
    assert matcher.lookup(T.DOMAIN, empty_md5) == []
    assert "Common contact e-mail addresses" in {
        h.name for h in matcher.lookup(T.EMAIL, "abuse@example.org")
    }
    assert matcher.lookup(T.EMAIL, "j.smith@example.org") == []


def test_bulk_match_equals_single_lookups(matcher: WarninglistMatcher) -> None:
    rng = random.Random(11)
    ips = [str(ipaddress.IPv4Address(rng.getrandbits(32))) for _ in range(40_000)]
    ips += ["8.8.8.8", "10.0.0.1", "not-an-ip", "1.2.3", "256.1.1.1"]
    hits = matcher.match(T.IPV4, ips)
    rows = matcher.names_per_value(hits, len(ips))
    assert any(rows) and not all(rows)
    for i in rng.sample(range(len(ips)), 300) + list(range(len(ips) - 5, len(ips))):
        assert sorted(rows[i]) == sorted(h.name for h in matcher.lookup(T.IPV4, ips[i])), ips[i]
    assert rows[-3:] == [[], [], []]  # invalid addresses: no hit, no error
    domains = ["www.google.com", "nothing-here-7x.example-zz.com", "mail.github.com"] * 20_000
    rows = matcher.names_per_value(matcher.match(T.DOMAIN, domains), len(domains))
    assert rows[0] == rows[3] and not rows[1] and rows[2]


def test_a_hash_collision_is_caught_by_the_byte_check() -> None:
    """Forge the stored hash of an entry to equal a value's: the value must still not match."""
    m = compile_warninglists(
        [{"name": "Demo", "type": "hostname", "list": ["example.com"], "matching_attributes": []}]
    )
    assert match_names(m.names, ["example.com"], suffixes=True, whole_modes=3).value.tolist() == [0]
    probe = compile_warninglists(
        [{"name": "Probe", "type": "hostname", "list": ["evil.net"], "matching_attributes": []}]
    )
    forged = NameTable(**{**m.names._asdict(), "hash": probe.names.hash.copy()})
    forged = forged._replace(bucket=probe.names.bucket)
    assert match_names(forged, ["evil.net"], suffixes=True, whole_modes=3).value.size == 0


def test_bad_entries_are_skipped_and_counted() -> None:
    m = compile_warninglists(
        [
            {"name": "Nets", "type": "cidr", "list": ["192.0.2.0/24", "nonsense", "10.0.0.0/33"]},
            {"name": "Rx", "type": "regex", "list": ["/ok@.*/i", "/(unclosed/"]},
        ]
    )
    assert [(w.name, w.entries, w.skipped) for w in m.lists] == [("Nets", 3, 2), ("Rx", 2, 1)]
    assert [h.name for h in m.lookup(T.IPV4, "192.0.2.7")] == ["Nets"]


def test_cache_is_mapped_back_and_a_damaged_one_rebuilt(
    tmp_path: Path, cache: Path, matcher: WarninglistMatcher
) -> None:
    from marsad.enrich import loaders

    (compiled,) = [f for f in cache.iterdir() if f.name.startswith("warninglists-")]
    assert (compiled / "meta.json").is_file()  # written by the session's first load
    copy = tmp_path / "cache"
    shutil.copytree(compiled, copy / compiled.name)
    notes: list[str] = []
    again = load_warninglists(copy, on_compile=notes.append)
    assert notes == [] and isinstance(again.names.hash, np.memmap)
    for kind, column in (
        (T.IPV4, ["8.8.8.8", "1.1.1.1", "192.168.1.1", "203.0.113.9"]),
        (T.DOMAIN, ["www.google.com", "example.org", "no-such-name-zz9.com"]),
    ):
        ours = again.names_per_value(again.match(kind, column), len(column))
        assert ours == matcher.names_per_value(matcher.match(kind, column), len(column))
    (copy / compiled.name / "names_hash.npy").write_bytes(b"damaged")
    loaders._loaded.clear()
    rebuilt = load_warninglists(copy, on_compile=notes.append)
    assert len(notes) == 1 and "compiling" in notes[0]
    assert rebuilt.lookup(T.IPV4, "8.8.8.8") == matcher.lookup(T.IPV4, "8.8.8.8")


@pytest.mark.parametrize("value", ["", "  ", "a..b", ".", "\n"])
def test_odd_domains_do_not_break_matching(matcher: WarninglistMatcher, value: str) -> None:
    assert isinstance(matcher.lookup(T.DOMAIN, value), list)
