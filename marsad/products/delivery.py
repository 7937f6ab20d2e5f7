"""Delivering alerts outside the application: signed webhooks and e-mail through SMTP.

A webhook receives a JSON POST with ``X-Marsad-Timestamp`` (Unix seconds) and
``X-Marsad-Signature: sha256=<hex>``, the HMAC-SHA256 with the channel's secret of
``<timestamp>.<body>``; signing the timestamp too lets a receiver refuse replays. A
connection error, a 429 or a 5xx is retried with a growing pause; every attempt's outcome
is returned for the alert's ``delivery`` record. E-mail goes through the SMTP server in
``$MARSAD_SMTP_HOST`` / ``_PORT`` / ``_FROM`` (optional ``_USER``, ``_PASSWORD``,
``_STARTTLS=1``), else the ``"smtp"`` object of the instance's ``marsad.json``. Nothing
here raises: a failed delivery is an outcome to record, never a reason to undo an ingest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import msgspec
import orjson

from marsad.products import digest
from marsad.store.alert_reads import AlertView

SIGNATURE_HEADER = "X-Marsad-Signature"
TIMESTAMP_HEADER = "X-Marsad-Timestamp"
Outcome = dict[str, Any]


class SmtpConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The SMTP server alerts are sent through."""

    host: str
    port: int = 25
    sender: str = "marsad@localhost"
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout_s: float = 10.0


class DeliveryConfig(msgspec.Struct, frozen=True, kw_only=True):
    """How deliveries are made: the SMTP server, and webhook attempts and pauses."""

    smtp: SmtpConfig | None = None
    attempts: int = 3
    backoff_s: float = 1.0
    timeout_s: float = 10.0


def load_config(home: Path | None = None) -> DeliveryConfig:
    """The configuration from the environment, else from ``<home>/marsad.json``."""
    env = os.environ
    if env.get("MARSAD_SMTP_HOST"):
        smtp = SmtpConfig(
            host=env["MARSAD_SMTP_HOST"],
            port=int(env.get("MARSAD_SMTP_PORT") or 25),
            sender=env.get("MARSAD_SMTP_FROM") or "marsad@localhost",
            user=env.get("MARSAD_SMTP_USER") or None,
            password=env.get("MARSAD_SMTP_PASSWORD") or None,
            starttls=env.get("MARSAD_SMTP_STARTTLS") == "1",
        )
        return DeliveryConfig(smtp=smtp)
    config = (home or instance_home()) / "marsad.json"
    if config.is_file():
        try:
            found = orjson.loads(config.read_bytes()).get("smtp")
            if found:
                return DeliveryConfig(smtp=msgspec.convert(found, SmtpConfig))
        except (orjson.JSONDecodeError, msgspec.ValidationError, AttributeError):
            pass  # an unreadable config means no e-mail; the failure is recorded per alert
    return DeliveryConfig()


def instance_home() -> Path:
    """The instance directory as the CLI resolves it ($MARSAD_HOME, else ./var)."""
    return Path(os.environ.get("MARSAD_HOME") or "var").absolute()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value of a webhook body."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def post_webhook(
    url: str,
    secret: str,
    body: bytes,
    config: DeliveryConfig,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """POST a signed body; retry transient failures; the outcome with every attempt."""
    tries: list[str] = []
    status: int | None = None
    for attempt in range(max(1, config.attempts)):
        if attempt:
            sleep(config.backoff_s * 2 ** (attempt - 1))
        stamp = str(int(time.time()))
        request = urllib.request.Request(
            url, data=body, method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "marsad-alerts",
                     TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(secret, stamp, body)},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=config.timeout_s) as response:
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (OSError, ValueError) as exc:  # refused, timed out, unresolvable, bad URL
            status = None
            tries.append(f"{type(exc).__name__}: {exc}"[:200])
            continue
        tries.append(f"HTTP {status}")
        if status < 300 or (status < 500 and status != 429):
            break
    ok = status is not None and 200 <= status < 300
    return {"ok": ok, "attempts": len(tries), "status": status, "tries": tries, "at": _now()}


def send_email(
    config: DeliveryConfig, to: Sequence[str], subject: str, text: str, html: str
) -> Outcome:
    """Send one message (text with an HTML alternative); the outcome."""
    smtp = config.smtp
    if smtp is None:
        return {"ok": False, "error": "no SMTP server configured (MARSAD_SMTP_HOST)", "at": _now()}
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = smtp.sender, ", ".join(to), subject
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s) as client:
            if smtp.starttls:
                client.starttls()
            if smtp.user and smtp.password:
                client.login(smtp.user, smtp.password)
            refused = client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300], "at": _now()}
    return {"ok": not refused, "refused": sorted(refused), "at": _now()}


class Target(msgspec.Struct, frozen=True, kw_only=True):
    """A channel as delivery needs it."""

    id: int
    kind: str
    target: str
    secret: str | None = None


def deliver(
    org: str,
    alerts: Sequence[AlertView],
    channels: Sequence[Target],
    config: DeliveryConfig,
    *,
    subject: str | None = None,
    event: str = "alerts",
) -> dict[str, Outcome]:
    """Send these alerts to every channel of the organisation: channel key -> outcome."""
    if not alerts or not channels:
        return {}
    outcomes: dict[str, Outcome] = {}
    hooks = [c for c in channels if c.kind == "webhook"]
    if hooks:
        body = orjson.dumps(digest.payload(org, alerts, event), default=str)
        for hook in hooks:
            outcomes[f"webhook:{hook.id}"] = post_webhook(
                hook.target, hook.secret or "", body, config
            )
    mails = [c for c in channels if c.kind == "email"]
    if mails:
        title = subject or f"Marsad: {len(alerts)} new alert(s) for {org}"
        full = f"[{digest.most_restrictive(alerts)}] {title}"
        sent = send_email(
            config, [m.target for m in mails], full,
            digest.text(title, alerts), digest.html(title, alerts),
        )  # fmt: skip
        outcomes.update({f"email:{m.id}": sent for m in mails})
    return outcomes
