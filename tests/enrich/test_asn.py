"""IP → ASN tables from an ip2asn TSV (plain, gzip) and a MaxMind .mmdb built here."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from mmdb_writer import MmdbU32, MMDBWriter
from netaddr import IPSet

from marsad.enrich.asn import AsnInfo, asn_of, parse_ip2asn
from marsad.enrich.loaders import EnrichmentDataError, import_asn, load_asn

# iptoasn.com layout: range_start, range_end, AS_number, country_code, AS_description
TSV = (
    "1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET\n"
    "1.0.1.0\t1.0.3.255\t0\tNone\tNot routed\n"
    "8.8.8.0\t8.8.8.255\t15169\tUS\tGOOGLE\n"
    "8.8.8.128\t8.8.9.255\t64500\tUS\tOVERLAPS GOOGLE\n"
    "9.9.9.0\t9.9.9.255\t19281\tCH\tQUAD9-AS-1\n"
    "this line has no tabs\n"
    "10.0.0.300\t10.0.1.0\t64501\tZZ\tBAD ADDRESS\n"
    "11.0.0.9\t11.0.0.1\t64502\tUS\tBACKWARDS\n"
    "12.0.0.0\t12.0.0.255\tASX\tUS\tBAD AS\n"
    "2001:4860::\t2001:4860:ffff:ffff:ffff:ffff:ffff:ffff\t15169\tUS\tGOOGLE\n"
    "2620:fe::\t2620:fe::ffff\t19281\tCH\tQUAD9-AS-1\n"
)


def test_tsv_rows_bad_lines_named_by_number() -> None:
    rows, bad, not_routed = parse_ip2asn(TSV.encode())
    assert not_routed == 1
    assert {(r.asn, r.owner, r.version) for r in rows} >= {
        (15169, "GOOGLE", 4),
        (19281, "QUAD9-AS-1", 6),
    }
    where = {b.location: b.reason for b in bad}
    assert set(where) == {"line 6", "line 7", "line 8", "line 9"}
    assert "5 tab-separated fields" in where["line 6"]
    assert "not an IPv4 range" in where["line 7"]
    assert "after its end" in where["line 8"]
    assert "AS number" in where["line 9"]


@pytest.mark.parametrize("compress", [False, True])
def test_import_tsv_and_look_up(tmp_path: Path, compress: bool) -> None:
    source = tmp_path / ("ip2asn-v4.tsv.gz" if compress else "ip2asn-v4.tsv")
    source.write_bytes(gzip.compress(TSV.encode()) if compress else TSV.encode())
    report = import_asn(source, tmp_path / "home")
    assert (report.format, report.ipv4_ranges, report.ipv6_ranges) == ("ip2asn-tsv", 3, 2)
    assert report.not_routed == 1
    assert [b.location for b in report.rejections] == [
        "line 4",
        "line 6",
        "line 7",
        "line 8",
        "line 9",
    ]
    assert "overlaps the range at line 3" in report.rejections[0].reason
    table = load_asn(tmp_path / "home")
    assert table is not None
    got = asn_of(
        table,
        [
            "8.8.8.8",
            "8.8.9.1",
            "1.0.2.1",
            "9.9.9.9",
            "2001:4860:4860::8888",
            "2620:fe::fe",
            "::1",
            "x",
        ],
    )
    assert got == [
        AsnInfo(15169, "GOOGLE", "US"),
        None,  # only in the rejected overlapping range
        None,  # not routed
        AsnInfo(19281, "QUAD9-AS-1", "CH"),
        AsnInfo(15169, "GOOGLE", "US"),
        AsnInfo(19281, "QUAD9-AS-1", "CH"),
        None,
        None,
    ]


def _mmdb(path: Path) -> None:
    writer = MMDBWriter(ip_version=6, database_type="GeoLite2-ASN", ipv4_compatible=True)
    for nets, asn, org in (
        (["8.8.8.0/24", "8.8.4.0/24"], 15169, "GOOGLE"),
        (["2001:4860::/32"], 15169, "GOOGLE"),
        (["1.1.1.0/24"], 13335, "CLOUDFLARENET"),
    ):
        writer.insert_network(
            IPSet(nets),
            {"autonomous_system_number": MmdbU32(asn), "autonomous_system_organization": org},
        )
    writer.insert_network(IPSet(["192.0.2.0/24"]), {"autonomous_system_organization": "NO NUMBER"})
    writer.to_db_file(str(path))


def test_import_mmdb(tmp_path: Path) -> None:
    source = tmp_path / "GeoLite2-ASN-test.mmdb"
    _mmdb(source)
    report = import_asn(source, tmp_path)
    assert (report.format, report.ipv4_ranges, report.ipv6_ranges) == ("mmdb", 3, 1)
    assert [(b.location, "autonomous_system_number" in b.reason) for b in report.rejections] == [
        ("network 192.0.2.0/24", True)
    ]
    table = load_asn(tmp_path)
    assert table is not None
    assert asn_of(table, ["8.8.4.4", "1.1.1.1", "2001:4860::1", "192.0.2.1", "9.9.9.9"]) == [
        AsnInfo(15169, "GOOGLE", None),
        AsnInfo(13335, "CLOUDFLARENET", None),
        AsnInfo(15169, "GOOGLE", None),
        None,
        None,
    ]


def test_unusable_files_are_one_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tsv"
    junk.write_text("hello\nworld\n")
    with pytest.raises(EnrichmentDataError, match=r"no usable AS ranges.*line 1"):
        import_asn(junk, tmp_path)
    with pytest.raises(EnrichmentDataError, match="no such file"):
        import_asn(tmp_path / "missing.tsv", tmp_path)
    assert load_asn(tmp_path) is None
