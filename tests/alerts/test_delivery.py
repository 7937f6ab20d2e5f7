"""Delivery on loopback: a signed webhook checked by a real HTTP server, e-mail through a
real SMTP server (aiosmtpd), retries and failures recorded on the alerts, never raised."""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from email.message import Message
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from marsad.access import audit
from marsad.model.handling import TLP
from marsad.products import alert_store, alerting
from marsad.products.delivery import DeliveryConfig, SmtpConfig, post_webhook, sign
from marsad.store.schema import alerts
from marsad.store.store import Store
from tests.alerts.test_alerting import _send

SECRET = "s3cret-for-tests"


class Hook:
    """A webhook receiver on loopback that verifies every signature it gets."""

    def __init__(self, fail_first: int = 0) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.verified: list[bool] = []
        self.fail_first = fail_first
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                stamp = self.headers["X-Marsad-Timestamp"]
                mac = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256)
                good = hmac.compare_digest(
                    self.headers["X-Marsad-Signature"], "sha256=" + mac.hexdigest()
                )
                hook.verified.append(good)
                if hook.fail_first > 0:
                    hook.fail_first -= 1
                    self.send_response(503)
                else:
                    hook.bodies.append(json.loads(body))
                    self.send_response(204 if good else 401)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Inbox:
    """aiosmtpd's handler: keeps every message."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_signature_covers_timestamp_and_body() -> None:
    assert sign("k", "1700000000", b"{}") != sign("k", "1700000001", b"{}")
    assert sign("k", "1", b"{}") == "sha256=" + hmac.new(b"k", b"1.{}", hashlib.sha256).hexdigest()


def test_webhook_retries_transient_failures_and_records_them() -> None:
    hook = Hook(fail_first=2)
    try:
        outcome = post_webhook(hook.url, SECRET, b'{"x": 1}', DeliveryConfig(backoff_s=0))
    finally:
        hook.close()
    assert outcome["ok"] and outcome["attempts"] == 3
    assert outcome["tries"] == ["HTTP 503", "HTTP 503", "HTTP 204"]
    assert hook.verified == [True, True, True]


def test_unreachable_webhook_is_an_outcome_not_an_exception() -> None:
    url = f"http://127.0.0.1:{_free_port()}/gone"
    outcome = post_webhook(url, SECRET, b"{}", DeliveryConfig(backoff_s=0, attempts=2))
    assert not outcome["ok"] and outcome["attempts"] == 2 and outcome["status"] is None


def test_new_alerts_reach_webhook_and_mail_and_outcomes_are_recorded(
    orgs: Store, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    hook = Hook()
    alert_store.add_entry(orgs, "Fiji CCU", "cctld", "fj")
    alert_store.add_channel(orgs, "Fiji CCU", "webhook", hook.url, SECRET)
    mail = alert_store.add_channel(orgs, "Fiji CCU", "email", "duty@ccu.example.fj")
    dead = alert_store.add_channel(
        orgs, "Fiji CCU", "webhook", f"http://127.0.0.1:{_free_port()}/x"
    )
    config = DeliveryConfig(smtp=SmtpConfig(host="127.0.0.1", port=port, sender="alerts@marsad.test"),
                            attempts=2, backoff_s=0)  # fmt: skip
    sub = _send(orgs, "PhishGuard", ["pay.bank.com.fj", "shop.example.org"], tlp=TLP.AMBER,
                to=("org:Fiji CCU",))  # fmt: skip
    try:
        summary = alerting.evaluate_submission(orgs, sub, alerting.Context(delivery=config))
    finally:
        hook.close()
    assert (summary.raised, summary.delivered, summary.failed) == (1, 2, 1)
    [body] = hook.bodies
    assert hook.verified == [True]
    assert body["organisation"] == "Fiji CCU" and body["tlp"] == "TLP:AMBER"
    assert [a["value"] for a in body["alerts"]] == ["pay.bank.com.fj"]
    assert body["alerts"][0]["evidence"][0]["source"] == "PhishGuard"
    [message] = inbox.messages
    assert message["To"] == "duty@ccu.example.fj"
    assert message["Subject"].startswith("[TLP:AMBER] Marsad: 1 new alert(s) for Fiji CCU")
    parts = {p.get_content_type(): p.get_payload(decode=True).decode() for p in message.walk()
             if not p.is_multipart()}  # fmt: skip
    assert "pay.bank.com.fj" in parts["text/plain"] and "TLP:AMBER" in parts["text/plain"]
    assert "<code>pay.bank.com.fj</code>" in parts["text/html"]
    assert "shop.example.org" not in parts["text/plain"]
    with orgs.engine.connect() as conn:
        delivery = json.loads(conn.execute(select(alerts.c.delivery)).scalar_one())
    assert delivery[f"email:{mail.id}"]["ok"] is True
    assert delivery[f"webhook:{dead.id}"]["ok"] is False
    assert delivery[f"webhook:{dead.id}"]["attempts"] == 2
    assert [e.action for e in audit.entries(orgs, action="deliver-alerts")] == ["deliver-alerts"]


def test_mail_without_smtp_configured_is_recorded_as_failed(orgs: Store) -> None:
    alert_store.add_entry(orgs, "Fiji CCU", "cctld", "fj")
    alert_store.add_channel(orgs, "Fiji CCU", "email", "duty@ccu.example.fj")
    sub = _send(orgs, "PhishGuard", ["x.gov.fj"])
    summary = alerting.evaluate_submission(orgs, sub, alerting.Context(delivery=DeliveryConfig()))
    assert (summary.raised, summary.delivered, summary.failed) == (1, 0, 1)
    with orgs.engine.connect() as conn:
        record = json.loads(conn.execute(select(alerts.c.delivery)).scalar_one())
    assert "no SMTP server configured" in next(iter(record.values()))["error"]
