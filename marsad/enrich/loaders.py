"""The shell around the enrichment lookups: read packages and files, keep compiled forms.

* Warninglists come from the `pymispwarninglists` package data (``lists/*/list.json``);
  they are compiled once per package version into a folder of ``.npy`` arrays in the
  user cache (``$MARSAD_CACHE_DIR``, else ``$XDG_CACHE_HOME/marsad``, else
  ``~/.cache/marsad``) and memory-mapped on later starts.
* The ASN table is imported by the user (`import_asn`) into ``<instance>/enrich/asn.npz``.
* The instance's enrichment settings live in ``<instance>/enrich/settings.json``.
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import shutil
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import orjson

from marsad.enrich.asn import (
    AsnTable,
    BadRow,
    Range,
    build_table,
    parse_ip2asn,
    range_of_network,
    row_order,
)
from marsad.enrich.warninglists import FORMAT, WarninglistMatcher, compile_warninglists
from marsad.model.errors import MarsadError

ASN_FILE = "asn.npz"
ASN_META = "asn.json"
SETTINGS_FILE = "settings.json"
_loaded: dict[Path, WarninglistMatcher] = {}


class EnrichmentDataError(MarsadError):
    """An enrichment file that cannot be used at all."""


def cache_dir() -> Path:
    """Where compiled lookups are kept (shared by the instances of this user)."""
    if os.environ.get("MARSAD_CACHE_DIR"):
        return Path(os.environ["MARSAD_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "marsad"


def package_version(name: str) -> str:
    """The installed version of a distribution, or 'unknown'."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def warninglist_documents() -> list[dict[str, Any]]:
    """Every ``list.json`` shipped by `pymispwarninglists`, as loaded JSON."""
    import pymispwarninglists

    root = Path(pymispwarninglists.__file__).parent / "data" / "misp-warninglists" / "lists"
    files = sorted(root.glob("*/list.json"))
    if not files:
        raise EnrichmentDataError(f"pymispwarninglists ships no lists under {root}")
    return [orjson.loads(f.read_bytes()) for f in files]


def load_warninglists(
    cache: Path | None = None, *, on_compile: Callable[[str], None] | None = None
) -> WarninglistMatcher:
    """The compiled MISP warninglists: from this process, else the cache, else compiled
    now and cached (``on_compile`` is told first, since that takes seconds)."""
    version = package_version("pymispwarninglists")
    folder = (cache or cache_dir()) / f"warninglists-{version}-f{FORMAT}"
    if folder in _loaded:
        return _loaded[folder]
    matcher = _read_compiled(folder)
    if matcher is None:
        if on_compile:
            on_compile(
                f"compiling the MISP warninglists of pymispwarninglists {version} into {folder} (once)"
            )
        matcher = compile_warninglists(warninglist_documents())
        _write_compiled(folder, matcher)
    _loaded[folder] = matcher
    return matcher


def _read_compiled(folder: Path) -> WarninglistMatcher | None:
    meta_file = folder / "meta.json"
    if not meta_file.is_file():
        return None
    try:
        meta = orjson.loads(meta_file.read_bytes())
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in meta["arrays"]}
        return WarninglistMatcher.from_parts(meta, arrays)
    except (OSError, ValueError, KeyError, TypeError, msgspec.ValidationError):
        return None  # a stale or damaged cache is rebuilt


def _write_compiled(folder: Path, matcher: WarninglistMatcher) -> None:
    """Write into a private folder, then rename: concurrent starts never see half a cache."""
    meta, arrays = matcher.parts()
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    try:
        tmp.mkdir(parents=True, exist_ok=True)
        for name, array in arrays.items():
            np.save(tmp / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
        (tmp / "meta.json").write_bytes(orjson.dumps({**meta, "arrays": sorted(arrays)}))
        os.replace(tmp, folder)
    except OSError:
        pass  # another process won the race, or the cache is not writable: run uncached
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def startup_seconds(cache: Path | None = None) -> float:
    """Time to map an already-compiled cache (what every CLI start pays)."""
    version = package_version("pymispwarninglists")
    folder = (cache or cache_dir()) / f"warninglists-{version}-f{FORMAT}"
    start = time.perf_counter()
    _read_compiled(folder)
    return time.perf_counter() - start


# --- ASN tables -------------------------------------------------------------------------


class AsnImport(msgspec.Struct, frozen=True):
    """What `import_asn` did."""

    file: str
    format: str
    ranges: int
    ipv4_ranges: int
    ipv6_ranges: int
    not_routed: int
    rejected: int
    rejections: list[BadRow]
    imported_at: dt.datetime


def _mmdb_ranges(path: Path) -> tuple[list[Range], list[BadRow]]:
    import maxminddb

    rows: list[Range] = []
    bad: list[BadRow] = []
    try:
        reader = maxminddb.open_database(str(path))
    except (OSError, ValueError) as exc:
        raise EnrichmentDataError(f"{path}: not a readable MaxMind DB file ({exc})") from None
    with reader:
        for network, record in reader:
            location = f"network {network}"
            if not isinstance(record, dict):
                bad.append(BadRow(location, "record is not a map"))
                continue
            got = range_of_network(
                str(network),
                record.get("autonomous_system_number"),
                record.get("autonomous_system_organization"),
                location,
            )
            (rows if isinstance(got, Range) else bad).append(got)  # type: ignore[arg-type]
    return rows, bad


def import_asn(path: Path, home: Path, *, now: dt.datetime | None = None) -> AsnImport:
    """Read an ip2asn TSV (plain or .gz) or a MaxMind ``.mmdb`` and store it in the
    instance, replacing the previous table; bad rows are reported and left out."""
    if not path.is_file():
        raise EnrichmentDataError(f"cannot read {path}: no such file")
    raw = path.read_bytes()
    not_routed = 0
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise EnrichmentDataError(f"{path}: damaged gzip data ({exc})") from None
    if b"\xab\xcd\xefMaxMind.com" in raw[-128 * 1024 :]:
        kind = "mmdb"
        rows, bad = _mmdb_ranges(path)
    else:
        kind = "ip2asn-tsv"
        rows, bad, not_routed = parse_ip2asn(raw)
    table, overlaps = build_table(rows)
    bad = sorted(bad + overlaps, key=row_order)
    if not table.ranges:
        first = f"; first problem: {bad[0].location}: {bad[0].reason}" if bad else ""
        raise EnrichmentDataError(f"{path}: no usable AS ranges ({kind}){first}")
    folder = home / "enrich"
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"{ASN_FILE}.tmp-{os.getpid()}.npz"
    np.savez(tmp, **table._asdict())
    os.replace(tmp, folder / ASN_FILE)
    report = AsnImport(
        file=str(path),
        format=kind,
        ranges=table.ranges,
        ipv4_ranges=len(table.v4_first),
        ipv6_ranges=len(table.v6_first),
        not_routed=not_routed,
        rejected=len(bad),
        rejections=bad,
        imported_at=now or dt.datetime.now(dt.UTC),
    )
    summary = msgspec.to_builtins(report)
    summary["rejections"] = summary["rejections"][:100]
    (folder / ASN_META).write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    return report


def load_asn(home: Path) -> AsnTable | None:
    """The instance's ASN table, or None when none was imported."""
    path = home / "enrich" / ASN_FILE
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as data:
        return AsnTable(*(data[f] for f in AsnTable._fields))


def asn_source(home: Path) -> dict[str, Any] | None:
    """What was imported, and when (the summary saved by `import_asn`)."""
    path = home / "enrich" / ASN_META
    return orjson.loads(path.read_bytes()) if path.is_file() else None


# --- settings -----------------------------------------------------------------------------


class Settings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Per-instance enrichment settings; online look-ups are off unless switched on."""

    online: bool = False
    rdap_url: str = "https://rdap.org"
    timeout_s: float = 10.0


def load_settings(home: Path) -> Settings:
    """The instance's settings (defaults when never saved)."""
    path = home / "enrich" / SETTINGS_FILE
    if not path.is_file():
        return Settings()
    try:
        return msgspec.json.decode(path.read_bytes(), type=Settings)
    except msgspec.DecodeError as exc:
        raise EnrichmentDataError(f"{path}: {exc}") from None


def save_settings(home: Path, settings: Settings) -> Path:
    """Store the instance's settings."""
    path = home / "enrich" / SETTINGS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(msgspec.json.format(msgspec.json.encode(settings)))
    return path


_listed: dict[Path, dict[str, list[str]]] = {}


def load_listed_addresses(cache: Path | None = None) -> dict[str, list[str]]:
    """Addresses the warninglists name one by one, extracted once per list version."""
    from marsad.enrich.listed_addresses import listed_addresses

    version = package_version("pymispwarninglists")
    path = (cache or cache_dir()) / f"warninglist-addresses-{version}.json"
    if path not in _listed:
        if path.is_file():
            _listed[path] = orjson.loads(path.read_bytes())
        else:
            found = listed_addresses(warninglist_documents())
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(orjson.dumps(found))
            tmp.replace(path)
            _listed[path] = found
    return _listed[path]
