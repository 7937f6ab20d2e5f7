"""The modus-operandi notice: authored from a cluster and a prose file, through the issuer's
grant; STIX report + note validated by stix2-validator."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import orjson
import pytest
from markupsafe import escape
from stix2validator import ValidationOptions, validate_string

from marsad.formats.stix_vocab import TLP2_MARKING_IDS
from marsad.model.errors import MarsadError
from marsad.model.handling import TLP
from marsad.products import render
from marsad.products.notice import NoticeText, build_notice, load_text
from marsad.products.notice_stix import notice_bundle
from marsad.store.store import Store
from tests.products.conftest import pdf_pages
from tests.products.test_activity import squeeze
from tests.products.world import FJ_C2, FJ_PHISH, Fixed, build_fixed

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
PROSE = NoticeText(
    title="Cloned bank portals on Fijian hosting",
    method="Phishing kits cloned from local banks, hosted on Fijian addresses.",
    targets="Customers of Pacific banks.",
    tools="Kit PacBank v2; domains resolving to the same address.",
    countermeasures=["Block the listed addresses.", "Warn the banks' customers."],
    tlp="amber",
)
FIJI_SEES = {FJ_PHISH, "fiji-resolves.example.com", f"http://{FJ_PHISH}/login"}


def test_fiji_notice_holds_its_visible_part_of_the_cluster(store: Store, fixed: Fixed) -> None:
    n, _, _ = build_notice(store, fixed.network, "Fiji CCU", text=PROSE, now=NOW)
    assert {i.value for i in n.indicators} == FIJI_SEES  # FJ_C2 is joined only by France's RED
    assert [(link.type, link.target) for link in n.infrastructure] == [
        ("resolves-to", f"ipv4:{FJ_PHISH}")]  # fmt: skip
    assert (n.tlp, n.pap) == ("TLP:AMBER", "PAP:GREEN")  # the file's floor over GREEN content
    assert n.hosting_countries == {"FJ": 1} and n.issuer == "Fiji CCU"
    page = render.notice_html(n)
    for part in (PROSE.method, PROSE.targets, PROSE.tools, *PROSE.countermeasures, "Fiji CCU"):
        assert escape(part) in page
    assert "secret" not in page and FJ_C2 not in page


def test_france_sees_the_red_links_and_the_notice_is_red(store: Store, fixed: Fixed) -> None:
    n, _, _ = build_notice(store, fixed.network, "France OFAC", text=PROSE, now=NOW)
    assert {i.value for i in n.indicators} == FIJI_SEES | {"secret-linked.example.org"}
    assert n.tlp == "TLP:RED"
    assert {(link.source, link.target) for link in n.infrastructure} >= {
        ("domain:secret-linked.example.org", f"ipv4:{FJ_C2}"),
        (f"ipv4:{FJ_C2}", f"ipv4:{FJ_PHISH}")}  # through FJ_C2, whose statement France cannot see  # fmt: skip


def test_stix_report_and_note_validate(store: Store, fixed: Fixed) -> None:
    n, views, rels = build_notice(store, fixed.network, "Fiji CCU", text=PROSE, now=NOW)
    bundle = notice_bundle(n, views, rels)
    result = validate_string(bundle.decode(), ValidationOptions(version="2.1", strict=False))
    assert result.is_valid, result.as_dict()
    objects = {o["id"]: o for o in orjson.loads(bundle)["objects"]}
    report = next(o for o in objects.values() if o["type"] == "report")
    note = next(o for o in objects.values() if o["type"] == "note")
    assert note["object_refs"] == [report["id"]] and PROSE.targets in note["content"]
    assert report["name"] == PROSE.title and report["description"] == PROSE.method
    assert report["object_marking_refs"] == [TLP2_MARKING_IDS[TLP.AMBER]]
    assert TLP2_MARKING_IDS[TLP.AMBER] in objects  # the marking is defined in the bundle
    assert all(ref in objects for ref in report["object_refs"])
    assert sum(objects[r]["type"] == "indicator" for r in report["object_refs"]) == 3
    assert "secret" not in bundle.decode()


def test_prose_files_yaml_json_and_errors(tmp_path: Path) -> None:
    (tmp_path / "n.yaml").write_text("method: A new kit.\ncountermeasures:\n  - Block it.\n")
    assert load_text(tmp_path / "n.yaml").countermeasures == ["Block it."]
    (tmp_path / "n.json").write_text(json.dumps({"method": "M", "tlp": "red"}))
    assert load_text(tmp_path / "n.json").tlp == "red"
    (tmp_path / "bad.json").write_text(json.dumps({"method": "M", "colour": "red"}))
    with pytest.raises(MarsadError, match=r"bad\.json: not a valid notice.*colour"):
        load_text(tmp_path / "bad.json")
    (tmp_path / "tlp.json").write_text(json.dumps({"method": "M", "tlp": "purple"}))
    with pytest.raises(MarsadError, match="tlp 'purple' is not one of"):
        load_text(tmp_path / "tlp.json")


def test_unknown_or_invisible_cluster_is_one_error(store: Store, fixed: Fixed) -> None:
    for cluster in (999999, fixed.network + 1):
        with pytest.raises(MarsadError, match=f"no cluster {cluster} among the clusters"):
            build_notice(store, cluster, "Fiji CCU", now=NOW)


def test_pdf_pages_and_text(sqlite_store: Store, tmp_path: Path) -> None:
    world = build_fixed(sqlite_store)
    n, _, _ = build_notice(sqlite_store, world.network, "Fiji CCU", text=PROSE, now=NOW)
    pages, text = pdf_pages(render.pdf_of(render.notice_html(n)), tmp_path)
    flat = " ".join(text.split())
    assert pages and flat.count("TLP:AMBER") >= 2 * len(pages)
    for part in ("Method", "Targets", "Tools and infrastructure", "Indicators",
                 "Recommended countermeasures", PROSE.title):  # fmt: skip
        assert part in flat
    assert squeeze(FJ_PHISH) in squeeze(text) and "secret" not in text
