"""`marsad watch` and `marsad alerts` end to end: ingest raises alerts, listing is audited and
re-checks the policy, the digest is e-mailed through a real SMTP server on loopback.

One instance for the module (each command is a process start): the tests run in order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.alerts.test_delivery import Inbox, _free_port
from tests.cli.test_cli import Marsad

FIJI, SAMOA = "Fiji CCU", "Samoa CERT"


@pytest.fixture(scope="module")
def marsad(tmp_path_factory: pytest.TempPathFactory) -> Marsad:
    m = Marsad(tmp_path_factory.mktemp("alerts-home"))
    m.run("init")
    m.run("org", "add", "PhishGuard", "--kind", "private-partner", "--country", "AU")
    for name, country in ((FIJI, "FJ"), (SAMOA, "WS")):
        m.run("org", "add", name, "--kind", "national-cyber-unit", "--country", country,
              "--region", "asia-south-pacific")  # fmt: skip
    return m


def _feed(tmp_path: Path, name: str, *values: str) -> str:
    path = tmp_path / name
    path.write_text("\n".join(values) + "\n")
    return str(path)


def test_watch_add_list_remove_and_bad_entries(marsad: Marsad) -> None:
    entry = marsad.json("watch", "add", "--org", SAMOA, "cctld", ".WS")
    assert (entry["kind"], entry["value"], entry["org"]) == ("cctld", "ws", SAMOA)
    marsad.run("watch", "add", "--org", SAMOA, "asn", "AS64500")
    listed = marsad.json("watch", "list", "--org", SAMOA)
    assert [(e["kind"], e["value"]) for e in listed] == [("asn", "64500"), ("cctld", "ws")]
    again = marsad.run("watch", "add", "--org", SAMOA, "cctld", "ws", ok=False)
    assert again.returncode == 1 and "already watches cctld ws" in again.stderr
    bad = marsad.run("watch", "add", "--org", SAMOA, "country", "Samoa", ok=False)
    assert bad.returncode == 1 and "ISO 3166-1" in bad.stderr and "Traceback" not in bad.stderr
    assert marsad.json("watch", "remove", "--org", SAMOA, "asn", "64500")["removed"] > 0
    gone = marsad.run("watch", "remove", "--org", SAMOA, "asn", "64500", ok=False)
    assert gone.returncode == 1 and "does not watch" in gone.stderr


def test_ingest_raises_alerts_that_list_ack_and_digest(marsad: Marsad, tmp_path: Path) -> None:
    marsad.run("watch", "add", "--org", FIJI, "cctld", "fj")
    done = marsad.run("ingest", _feed(tmp_path, "a.txt", "evil.com.fj", "bad.ws", "ok.example.org"),
                      "--source", "PhishGuard", "--tlp", "amber", "--releasable-to",
                      f"org:{FIJI}", "--threat-type", "phishing")  # fmt: skip
    assert "1 alerts raised" in done.stdout  # Samoa CERT may not see this amber submission
    shown = marsad.json("alerts", "list", "--as", FIJI)
    assert [(a["value"], a["reasons"], a["tlp"]) for a in shown] == [
        ("evil.com.fj", ["cctld:fj"], "amber")]  # fmt: skip
    assert marsad.json("alerts", "list", "--as", SAMOA) == []
    table = marsad.run("alerts", "list").stdout
    assert "evil.com.fj" in table and "bad.ws" not in table
    audited = marsad.json("audit", "list", "--action", "list-alerts")
    assert {e["org"] for e in audited} == {FIJI, SAMOA, None}

    alert_id = str(shown[0]["id"])
    assert marsad.json("alerts", "ack", alert_id, "--as", FIJI) == {
        "acknowledged": [int(alert_id)], "not_found": []}  # fmt: skip
    assert marsad.json("alerts", "list", "--as", FIJI, "--unacked") == []
    foreign = marsad.run("alerts", "ack", alert_id, "--as", SAMOA, ok=False)
    assert foreign.returncode == 1 and f"no alert {alert_id}" in foreign.stderr

    digest = marsad.run("alerts", "digest", "--as", FIJI).stdout
    assert digest.startswith("TLP:AMBER") and "evil.com.fj" in digest and "bad.ws" not in digest
    empty = marsad.json("alerts", "digest", "--as", FIJI, "--day", "2020-01-01")
    assert empty["alerts"] == [] and empty["tlp"] == "TLP:CLEAR"

    # The owner hides its records from others (retention passed): the evidence, and so the
    # alert, disappear from Fiji CCU's listing.
    marsad.run("handling", "tighten", "--as", "PhishGuard", "--retain-until", "2020-01-01")
    assert marsad.json("alerts", "list", "--as", FIJI) == []


def test_alerts_run_evaluates_after_watchlists_change(marsad: Marsad, tmp_path: Path) -> None:
    marsad.run("ingest", _feed(tmp_path, "b.txt", "pay.bank-example.net"), "--source",
               "PhishGuard", "--tlp", "green", "--threat-type", "phishing")  # fmt: skip
    assert marsad.json("alerts", "run") == []  # the ingest evaluated it already
    marsad.run("watch", "add", "--org", FIJI, "domain", "bank-example.net")
    rerun = marsad.json("alerts", "run", "--since", "2000-01-01", "--no-deliver")
    assert sorted((s["raised"], tuple(s["by_org"].items())) for s in rerun) == [
        (0, ()), (1, ((FIJI, 1),))]  # fmt: skip
    assert "0 alerts raised" in marsad.run("alerts", "run", "--since", "2000-01-01").stdout


def test_channels_and_digest_sent_by_smtp(marsad: Marsad, tmp_path: Path) -> None:
    hook = marsad.json("alerts", "channel", "add", "--org", FIJI, "webhook",
                       "https://hooks.example.fj/m")  # fmt: skip
    assert len(hook["secret"]) > 30
    marsad.run("alerts", "channel", "add", "--org", FIJI, "email", "duty@ccu.example.fj")
    listed = marsad.json("alerts", "channel", "list")
    assert [c["kind"] for c in listed] == ["webhook", "email"] and "secret" not in listed[0]
    marsad.run("alerts", "channel", "remove", str(hook["id"]))
    bad = marsad.run("alerts", "channel", "add", "--org", FIJI, "email", "nobody", ok=False)
    assert bad.returncode == 1 and "not an e-mail address" in bad.stderr

    marsad.run("watch", "add", "--org", FIJI, "keyword", "bank-login")
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    saved = dict(marsad.env)
    try:
        marsad.env.update(MARSAD_SMTP_HOST="127.0.0.1", MARSAD_SMTP_PORT=str(port),
                          MARSAD_SMTP_FROM="alerts@marsad.test")  # fmt: skip
        marsad.run("ingest", _feed(tmp_path, "c.txt", "bank-login.example.org"), "--source",
                   "PhishGuard", "--tlp", "green", "--threat-type", "phishing")  # fmt: skip
        sent: Any = marsad.json("alerts", "digest", "--as", FIJI, "--send")
    finally:
        controller.stop()
        marsad.env = saved
    assert sent["sent"]["ok"] is True
    # the day's alerts: this one last, after the one the test above raised if it ran here
    # (pytest-xdist may run the tests of this module on different workers)
    values = [a["value"] for a in sent["alerts"]]
    assert values[-1] == "bank-login.example.org"
    assert set(values) <= {"pay.bank-example.net", "bank-login.example.org"}
    alert_mail, digest_mail = inbox.messages
    assert alert_mail["Subject"] == f"[TLP:GREEN] Marsad: 1 new alert(s) for {FIJI}"
    assert (
        digest_mail["Subject"]
        .strip()
        .startswith(f"[TLP:GREEN] Marsad daily alert digest for {FIJI}")
    )
    assert digest_mail["From"] == "alerts@marsad.test"
    assert "bank-login.example.org" in digest_mail.get_body(("plain",)).get_content()
