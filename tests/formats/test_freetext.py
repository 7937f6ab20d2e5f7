"""Free-text reports: indicators found refanged, with context, noise dropped, report attached."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marsad.formats import freetext
from marsad.formats.registry import detect_format
from marsad.formats.textextract import find_indicators, refang_text
from marsad.ingest.pipeline import ingest
from marsad.model.errors import FormatError
from marsad.model.normalize import detect
from marsad.model.records import (
    AssertionRecord,
    EntityRecord,
    ParseMeta,
    Record,
    RelationshipRecord,
    ThreatType,
)
from marsad.store.store import Store
from tests.conftest import DATA, NOW
from tests.formats.accounting import assert_accounted
from tests.formats.pdfmaker import build_pdf

REPORTS = DATA / "freetext"
FEODO_HTML = DATA / "intelmq" / "html_table" / "feodotracker.html"
PDF_PAGES = [
    ["Lantern Fish flash report (page 1)", "Loader version 2.4.1.7 drops setup.exe.",
     "C2: hxxps://cdn-update[.]lanternfish[.]example[.]com/gate.php"],
    ["Infrastructure (page 2)", "staging 198.51.100[.]23 and 203.0.113.45",
     "sample md5 44d88612fea8a8f36de82e1278abb02f", "again: 203.0.113[.]45"],
]  # fmt: skip
PDF = build_pdf(PDF_PAGES, "Lantern Fish flash report")


def parse(raw: bytes, filename: str | None = None) -> list[Record]:
    return list(freetext.parse(raw, ParseMeta(filename=filename)))


def found(records: list[Record]) -> dict[str, AssertionRecord]:
    return {r.observable.ref: r for r in records if isinstance(r, AssertionRecord)}


def test_markdown_report_indicators_refanged_and_noise_dropped() -> None:
    records = parse((REPORTS / "report.md").read_bytes(), "report.md")
    got = found(records)
    assert set(got) == {
        "email:billing@acme-payments.com",
        "url:https://cdn-update.lanternfish.example.com/gate.php",
        "ipv4:203.0.113.45",
        "domain:update-check.lantern-fish.net",  # (dot)
        "url:http://198.51.100.23/files/stage2.bin",
        "domain:login.acme-payments.com",
        "ipv6:2001:db8:4f::17",
        "domain:payload.zip",  # defanged by the author: a domain, not the archive
        "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "md5:44d88612fea8a8f36de82e1278abb02f",
        "btc-wallet:1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
        "asn:AS64500",
        "eth-wallet:0x52908400098527886E0F7030069857D2E4169EE7",
        "url:https://example.org/blog/lantern-fish-2025",
    }
    # versions (2.4.1.7, build 10.0.3.5, v1.2.3.4) and file names (invoice.pdf, setup.exe,
    # run.sh, payload.zip undefanged or in a path) are not indicators
    assert not any(k.startswith("ipv4:") and k != "ipv4:203.0.113.45" for k in got)
    c2 = got["ipv4:203.0.113.45"]
    assert c2.location == "line 17" and c2.threat_type is ThreatType.UNKNOWN
    assert (
        c2.description
        == "mentioned 2 times, first: “| C2 | 203.0.113.45:8443 | self-signed certificate |”"
    )
    sha = got["sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]
    assert (sha.description or "").startswith("mentioned 2 times")  # upper and lower case
    email = got["email:billing@acme-payments.com"]
    assert email.location == "line 8" and (email.description or "").startswith("“…")


def test_the_document_is_a_report_entity_referring_to_what_it_mentions() -> None:
    raw = (REPORTS / "report.md").read_bytes()
    records = parse(raw, "report.md")
    [report] = [r for r in records if isinstance(r, EntityRecord)]
    assert report.kind == "report"
    assert report.name == "Operation Lantern Fish: a loader campaign against regional banks"
    assert report.attributes["format"] == "markdown" and report.attributes["indicators"] == 14
    edges = [r for r in records if isinstance(r, RelationshipRecord)]
    assert {(e.source_ref, e.type) for e in edges} == {(report.ref, "refers-to")}
    assert {e.target_ref for e in edges} == set(found(records))
    # the same bytes are the same report (from stdin too); other bytes another one
    again = parse(raw)[0]
    assert isinstance(again, EntityRecord) and again.ref == report.ref
    assert "filename" not in again.attributes and report.attributes["filename"] == "report.md"
    assert parse(raw + b"\n")[0] != report


def test_threat_type_comes_from_the_submitter() -> None:
    meta = ParseMeta(default_threat_type=ThreatType.C2)
    records = list(freetext.parse((REPORTS / "report.txt").read_bytes(), meta))
    assert {r.threat_type for r in records if isinstance(r, AssertionRecord)} == {ThreatType.C2}


def test_html_visible_text_with_source_lines() -> None:
    raw = (REPORTS / "report.html").read_bytes()
    assert detect_format(raw).name == "text"
    records = parse(raw, "report.html")
    got = found(records)
    assert set(got) == {
        "url:http://198.51.100.23/files/stage2.bin",
        "ipv4:203.0.113.45",
        "email:billing@acme-payments.com",
        "domain:update-check.lantern-fish.net",
        "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "email:desk@example.org",
    }  # not the script's analytics.example.net, the nav links or invoice.pdf/setup.exe
    assert got["ipv4:203.0.113.45"].location == "line 15"  # the <code> on the next line
    assert "and beacons to 203.0.113.45 on port 8443." in (
        got["ipv4:203.0.113.45"].description or ""
    )
    [report] = [r for r in records if isinstance(r, EntityRecord)]
    assert report.name == "Lantern Fish: new staging servers (ASP Desk blog)"


def test_a_real_html_page() -> None:
    got = found(parse(FEODO_HTML.read_bytes()))
    assert {"ipv4:94.177.255.18", "ipv4:203.114.109.124", "asn:AS199883"} <= set(got)
    assert got["ipv4:94.177.255.18"].location == "line 95"


def test_pdf_pages_and_lines() -> None:
    assert detect_format(PDF).name == "text"
    records = parse(PDF, "flash.pdf")
    got = found(records)
    assert set(got) == {
        "url:https://cdn-update.lanternfish.example.com/gate.php",
        "ipv4:198.51.100.23",
        "ipv4:203.0.113.45",
        "md5:44d88612fea8a8f36de82e1278abb02f",
    }
    assert got["ipv4:198.51.100.23"].location == "page 2, line 2"
    assert (
        got["url:https://cdn-update.lanternfish.example.com/gate.php"].location == "page 1, line 3"
    )
    [report] = [r for r in records if isinstance(r, EntityRecord)]
    assert report.name == "Lantern Fish flash report" and report.attributes["pages"] == 2


def test_plain_text_is_read_only_when_named(orgs: Store) -> None:
    raw = (REPORTS / "report.txt").read_bytes()
    assert detect_format(raw).name != "text"
    report = ingest(orgs, raw, source="PhishGuard", fmt="text", filename="report.txt", now=NOW)
    assert report.format == "text" and report.accepted == 4 and report.entities == 1


def test_a_broken_pdf_is_one_clear_error(orgs: Store) -> None:
    broken = PDF[:200]
    with pytest.raises(FormatError, match="not a readable PDF"):
        parse(broken)
    report = ingest(orgs, broken, source="PhishGuard", now=NOW)
    assert report.status == "rejected" and "not a readable PDF" in (report.error or "")


@pytest.mark.parametrize(
    ("name", "raw"),
    [(p.name, p.read_bytes()) for p in sorted(REPORTS.glob("report.*"))]
    + [("feodotracker.html", FEODO_HTML.read_bytes()), ("flash.pdf", PDF)],
)
def test_report_ingests_with_every_record_accounted_for(orgs: Store, name: str, raw: bytes) -> None:
    report = ingest(orgs, raw, source="PhishGuard", fmt="text", filename=name, now=NOW)
    assert report.format == "text" and report.entities == 1
    assert_accounted(orgs, report, parse(raw, name))


# The refang pass, as properties.
TLDS = ("com", "net", "org", "io", "de", "ru", "co.uk", "example.com")
label = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
domains = st.builds(".".join, st.lists(label, min_size=1, max_size=3)).flatmap(
    lambda name: st.sampled_from(TLDS).map(lambda tld: f"{name}.{tld}")
)
ipv4s = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
hosts = st.one_of(domains, ipv4s)
urls = st.builds(
    lambda scheme, host, path: f"{scheme}://{host}/{path}",
    st.sampled_from(["http", "https", "ftp"]),
    hosts,
    st.from_regex(r"[a-z0-9_/-]{0,12}", fullmatch=True),
)
emails = st.builds(lambda user, dom: f"{user}@{dom}", label, domains)
indicators = st.one_of(domains, ipv4s, urls, emails)
DOTS = ("[.]", "(.)", "{.}", "[dot]", "(dot)", "{dot}", " [.] ", "[ . ]", "(DOT)")
ATS = ("[@]", "(@)", "{@}", "[at]", "(at)", " [at] ", "[AT]")
SCHEMES = {"http": ("hxxp", "hXXp", "hxp"), "https": ("hxxps", "HXXPS"), "ftp": ("fxp",)}


@st.composite
def defanged(draw: st.DrawFn) -> tuple[str, str]:
    """An indicator and the same indicator defanged the ways analysts do it."""
    value = draw(indicators)
    text = value
    scheme, sep, rest = text.partition("://")
    if sep:
        colon = draw(st.sampled_from(["://", "[://]", "[:]//"]))
        text = draw(st.sampled_from(SCHEMES[scheme])) + colon + rest
    dot, at = draw(st.sampled_from(DOTS)), draw(st.sampled_from(ATS))
    which = draw(st.lists(st.booleans(), min_size=text.count("."), max_size=text.count(".")))
    parts = text.split(".")
    text = parts[0] + "".join(
        (dot if w else ".") + p for w, p in zip(which, parts[1:], strict=True)
    )
    return value, text.replace("@", at)


@given(defanged(), st.sampled_from(["see {} now", "{}", "C2: {}.", "| {} |"]))
def test_defanging_then_refanging_round_trips(pair: tuple[str, str], template: str) -> None:
    value, text = pair
    assert refang_text(template.format(text)) == template.format(value)


@given(st.text())
def test_refanging_is_idempotent(text: str) -> None:
    once = refang_text(text)
    assert refang_text(once) == once


@given(st.text(alphabet=st.sampled_from("[](){}.:/@ atdoxhpfATDOXHPF")))
def test_refanging_is_idempotent_on_marker_soup(text: str) -> None:
    once = refang_text(text)
    assert refang_text(once) == once


@given(defanged())
def test_a_defanged_indicator_is_found_as_itself(pair: tuple[str, str]) -> None:
    value, text = pair
    expected = detect(value)
    hits = [h.observable for h in find_indicators(f"Block {text} at once")]
    assert expected is not None and expected in hits


def test_version_numbers_and_file_names_are_not_indicators() -> None:
    line = (
        "Fixed in version 10.2.3.4 (v1.2.3.4, build 2.3.4.5); open invoice.pdf, run.sh, payload.zip"
    )
    assert list(find_indicators(line)) == []
    assert [h.observable.value for h in find_indicators("fetched from payload[.]zip")] == [
        "payload.zip"
    ]
    assert [h.observable.value for h in find_indicators("C2 at 10.2.3.4 since May")] == ["10.2.3.4"]
    assert list(find_indicators(r"dropped to C:\Users\Public\update.zip and /tmp/x.sh")) == []


def test_url_punctuation_is_trimmed_but_balanced_brackets_kept() -> None:
    text = "see (hxxps://en.wikipedia[.]org/wiki/Foo_(bar)), or [link](https://a.example.com/x)."
    assert [h.observable.value for h in find_indicators(text)] == [
        "https://en.wikipedia.org/wiki/Foo_(bar)",
        "https://a.example.com/x",
    ]


def test_fixtures_have_provenance() -> None:
    provenance = (REPORTS / "PROVENANCE.md").read_text()
    assert all(p.name in provenance for p in REPORTS.iterdir() if p.name != "PROVENANCE.md")
