"""Shadowserver report CSVs: exposed services, bot infections, brute force, bad URLs.

Shadowserver sends one CSV per report type. The type is taken from the file name when it
carries one (``2022-01-10-scan_ssh-asn.csv``, ``event4_sinkhole_http.csv``), else from the
header row's columns. Each row becomes one assertion about the report's subject (``ip``,
``src_ip`` or ``url``) with ``timestamp`` as first seen and the useful context (protocol,
port, tag, infection, software) in the description; some reports add secondary values
(the phishing URL's IP, the malware URL's payload hash, the sandbox sample) with an edge.
Scan and device reports describe a victim's exposed service: threat type ``vulnerable``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Final, NamedTuple

from marsad.formats.feedutil import feed_time, malware_ref, value_of
from marsad.model.errors import FormatError, InvalidObservable
from marsad.model.observable import Observable
from marsad.model.observable import ObservableType as O
from marsad.model.records import (
    AssertionRecord,
    EntityRecord,
    ParseMeta,
    Record,
    Rejected,
    RelationshipRecord,
)
from marsad.model.records import ThreatType as T

NAME = "shadowserver"
DESCRIPTION = "Shadowserver report CSV (scan_*, event4_sinkhole*, honeypot, blocklist, *_url, …)"


class Also(NamedTuple):
    """A secondary value of a row: its column, threat type, and the edge to the subject."""

    column: str
    threat: T
    edge: str
    outgoing: bool  # subject -edge-> value (else value -edge-> subject)


class Report(NamedTuple):
    """How one report type maps: its threat type, subject column and context columns."""

    threat: T
    subject: str
    context: tuple[str, ...]
    signature: frozenset[str] = frozenset()  # columns that identify it from the header
    also: tuple[Also, ...] = ()
    family: str | None = None  # column naming the malware family (sinkholes)


_SINKHOLE_CONTEXT: Final = ("infection", "family", "tag", "protocol", "dst_port")
_SCAN_CONTEXT: Final = (
    "protocol", "port", "tag", "dns_version", "min_amplification", "serverid_software",
    "serverid_version", "banner", "smb_version_string", "smbv1_support", "rdp_protocol",
    "bluekeep_vulnerable", "device_vendor", "device_type", "device_model",
)  # fmt: skip
# Most specific first: header detection takes the first whose signature the header has.
REPORTS: Final[dict[str, Report]] = {
    "event4_honeypot_brute_force": Report(
        T.BRUTE_FORCE, "src_ip", ("protocol", "dst_port", "application", "infection", "client_version"),
        frozenset({"src_ip", "client_version", "username", "password"})),
    "event4_sinkhole_http": Report(
        T.BOTNET, "src_ip", (*_SINKHOLE_CONTEXT, "http_host", "http_url"),
        frozenset({"src_ip", "http_host", "http_agent"}), family="family"),
    "event4_sinkhole_dns": Report(
        T.BOTNET, "src_ip", (*_SINKHOLE_CONTEXT, "query_type", "query"),
        frozenset({"src_ip", "query_type", "query"}), family="family"),
    "event4_sinkhole": Report(
        T.BOTNET, "src_ip", (*_SINKHOLE_CONTEXT, "dst_ip"),
        frozenset({"src_ip", "infection", "dst_ip"}), family="family"),
    "event4_honeypot_darknet": Report(T.SCANNING, "src_ip", ("protocol", "dst_port", "tag")),
    "event4_honeypot_exploit": Report(T.EXPLOITATION, "src_ip", ("protocol", "dst_port", "tag")),
    "compromised_website": Report(
        T.COMPROMISED, "ip", ("port", "tag", "category", "http_host", "url", "cc_url", "family"),
        frozenset({"http_host", "category", "detected_since"}),
        (Also("http_host", T.COMPROMISED, "resolves-to", False),)),
    "malware_url": Report(
        T.MALWARE_DISTRIBUTION, "url", ("tag", "source", "application"),
        frozenset({"url", "sha256", "host"}),
        (Also("ip", T.MALWARE_DISTRIBUTION, "hosted-on", True), Also("sha256", T.MALWARE, "delivers", True))),
    "sandbox_url": Report(
        T.MALICIOUS_ACTIVITY, "url", ("md5", "method", "user_agent", "ip"),
        frozenset({"url", "md5", "user_agent"}), (Also("md5", T.MALWARE, "communicates-with", False),)),
    "phish_url": Report(
        T.PHISHING, "url", ("source",), frozenset({"url", "host", "source"}),
        (Also("ip", T.PHISHING, "hosted-on", True),)),
    "blocklist": Report(
        T.MALICIOUS_ACTIVITY, "ip", ("reason", "source", "tag"), frozenset({"ip", "reason", "source"})),
    "device_id": Report(
        T.VULNERABLE, "ip", _SCAN_CONTEXT, frozenset({"ip", "device_vendor", "device_model"})),
    "scan": Report(T.VULNERABLE, "ip", _SCAN_CONTEXT, frozenset({"ip", "port", "tag"})),
}  # fmt: skip
# Report names not in the table, by what their name contains (Shadowserver has ~100).
NAME_RULES: Final = (
    ("scan", "scan"), ("sinkhole_http", "event4_sinkhole_http"),
    ("sinkhole_dns", "event4_sinkhole_dns"), ("sinkhole", "event4_sinkhole"),
    ("brute_force", "event4_honeypot_brute_force"), ("darknet", "event4_honeypot_darknet"),
    ("http_scan", "event4_honeypot_darknet"), ("exploit", "event4_honeypot_exploit"),
)  # fmt: skip
_FILE_NAME: Final = re.compile(r"(?:\d{4}-\d{2}-\d{2}-)?([a-z0-9_]+)")
_TYPED: Final = {"url": O.URL, "md5": O.MD5, "sha256": O.SHA256, "http_host": O.DOMAIN}


def _header(raw: bytes) -> list[str]:
    first = raw[:8192].decode("utf-8", errors="replace").lstrip("\ufeff").split("\n", 1)[0]
    return [c.strip().lower() for c in next(csv.reader([first]), [])]


def sniff(raw: bytes) -> bool:
    """A header row that starts with ``timestamp`` and has a report's columns (or geo/asn)."""
    header = _header(raw)
    if not header or header[0] != "timestamp":
        return False
    columns = set(header)
    return any(r.signature <= columns for r in REPORTS.values() if r.signature) or (
        {"asn", "geo"} <= columns or {"src_asn", "src_geo"} <= columns
    )


def report_of(header: list[str], filename: str | None) -> tuple[str, Report]:
    """The report type: from the file name when it names one, else from the header."""
    if filename:
        stem = filename.replace("\\", "/").rsplit("/", 1)[-1].lower()
        m = _FILE_NAME.match(stem)
        name = m.group(1) if m else ""
        if name in REPORTS:
            return name, REPORTS[name]
        for part, known in NAME_RULES:
            if part in name:
                return name, REPORTS[known]
    columns = set(header)
    for name, report in REPORTS.items():
        if report.signature and report.signature <= columns:
            return name, report
    subject = next((c for c in ("src_ip", "ip", "url") if c in columns), None)
    if subject is None:
        raise FormatError("a Shadowserver report names its subject in a src_ip, ip or url column")
    return "report", Report(T.UNKNOWN, subject, ("protocol", "port", "tag", "infection"))


def _value(column: str, text: str) -> Observable:
    return value_of(_TYPED.get(column), text)


def parse(raw: bytes, meta: ParseMeta) -> Iterator[Record]:
    """One assertion per row about the report's subject; a bad cell rejects it with line and column."""
    header = _header(raw)
    name, report = report_of(header, meta.filename)
    threat = report.threat
    if threat is T.UNKNOWN and meta.default_threat_type is not None:
        threat = meta.default_threat_type
    context = [c for c in report.context if c in header]
    families: dict[str, tuple[str, str]] = {}
    reader = csv.reader(io.StringIO(raw.decode("utf-8", errors="replace").lstrip("\ufeff")))
    next(reader, None)
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        loc = f"line {reader.line_num}"
        row = {k: v.strip() for k, v in zip(header, cells, strict=False)}
        try:
            subject = _value(report.subject, row.get(report.subject, ""))
        except InvalidObservable as exc:
            yield Rejected(
                location=f"{loc}, column {report.subject}", reason=exc.reason, raw=",".join(cells)
            )
            continue
        seen = feed_time(row.get("timestamp"))
        details = ", ".join(f"{c} {row[c]}" for c in context if row.get(c))
        yield AssertionRecord(
            observable=subject, threat_type=threat, location=loc, first_seen=seen,
            description=f"Shadowserver {name}: {details}" if details else f"Shadowserver {name}",
        )  # fmt: skip
        for also in report.also:
            text = row.get(also.column, "")
            if not text or text == row.get(report.subject):
                continue
            try:
                other = _value(also.column, text)
            except InvalidObservable as exc:
                yield Rejected(
                    location=f"{loc}, column {also.column}", reason=exc.reason, raw=",".join(cells)
                )
                continue
            yield AssertionRecord(
                observable=other, threat_type=also.threat, location=loc, first_seen=seen,
                description=f"Shadowserver {name}: {also.column} of {subject.value}",
            )  # fmt: skip
            source, target = (subject, other) if also.outgoing else (other, subject)
            yield RelationshipRecord(
                source_ref=source.ref, target_ref=target.ref, type=also.edge, location=loc
            )
        family = row.get(report.family or "") or (row.get("infection") if report.family else "")
        if family:
            ref = malware_ref(family)
            families.setdefault(ref, (family, loc))
            yield RelationshipRecord(
                source_ref=subject.ref, target_ref=ref, type="infected-with", location=loc
            )
    for ref, (family, loc) in families.items():
        yield EntityRecord(ref=ref, kind="malware", name=family, location=loc)
