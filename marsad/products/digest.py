"""Alert messages as text, HTML and JSON: the e-mail of new alerts and the daily digest.

Pure: it renders `AlertView`s, which already hold only what the recipient may see. The
banner carries the most restrictive TLP of the content, as every Marsad product does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import msgspec
from jinja2 import Environment, select_autoescape

from marsad.model.handling import TLP
from marsad.store.alert_reads import AlertView

_RANK = {t.value: t.rank for t in TLP}

_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body style="font-family: sans-serif">
<p style="font-weight: bold">{{ banner }}</p>
<h1 style="font-size: 1.3em">{{ title }}</h1>
{% if not alerts %}<p>No alerts.</p>{% else %}
<table border="1" cellpadding="4" cellspacing="0">
<tr><th>alert</th><th>type</th><th>value</th><th>TLP</th><th>matched</th><th>evidence</th>
<th>raised</th><th>acknowledged</th></tr>
{% for a in alerts %}<tr><td>{{ a.id }}</td><td>{{ a.type }}</td><td><code>{{ a.value }}</code></td>
<td>{{ a.tlp | upper }}</td><td>{{ a.reasons | join(", ") }}</td>
<td>{% for e in a.evidence %}{{ e.threat_type }} from {{ e.source }} (TLP:{{ e.tlp | upper }}, assertion {{ e.assertion_id }}){% if not loop.last %}<br>{% endif %}{% endfor %}</td>
<td>{{ a.raised_at.strftime("%Y-%m-%d %H:%M") }} UTC</td><td>{{ "yes" if a.acked_at else "no" }}</td></tr>
{% endfor %}</table>{% endif %}
<p>{{ footer }}</p>
</body></html>
"""
_env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_template = _env.from_string(_HTML)


def most_restrictive(alerts: Sequence[AlertView]) -> str:
    """The TLP label of the whole message: the most restrictive of its alerts."""
    ranks = [_RANK[a.tlp] for a in alerts]
    return TLP.CLEAR.label if not ranks else tuple(TLP)[max(ranks)].label


def banner(alerts: Sequence[AlertView]) -> str:
    """The handling line that opens every message."""
    return f"{most_restrictive(alerts)} — share only as its handling allows."


def text(title: str, alerts: Sequence[AlertView], footer: str = "") -> str:
    """The plain-text form."""
    lines = [banner(alerts), "", title, "=" * len(title), ""]
    if not alerts:
        lines.append("No alerts.")
    for a in alerts:
        state = " (acknowledged)" if a.acked_at else ""
        lines.append(f"#{a.id} {a.type} {a.value} [TLP:{a.tlp.upper()}]{state}")
        lines.append(f"  matched: {', '.join(a.reasons)}")
        for e in a.evidence:
            lines.append(
                f"  - {e.threat_type} from {e.source} (TLP:{e.tlp.upper()}, assertion "
                f"{e.assertion_id}, {e.added_at:%Y-%m-%d %H:%M} UTC)"
            )
    if footer:
        lines += ["", footer]
    return "\n".join(lines) + "\n"


def html(title: str, alerts: Sequence[AlertView], footer: str = "") -> str:
    """The HTML form (escaped: values are attacker-chosen strings)."""
    return _template.render(title=title, alerts=alerts, banner=banner(alerts), footer=footer)


def payload(org: str, alerts: Sequence[AlertView], event: str = "alerts") -> dict[str, Any]:
    """The JSON body of a webhook delivery."""
    return {
        "event": event,
        "organisation": org,
        "tlp": most_restrictive(alerts),
        "alerts": [msgspec.to_builtins(a) for a in alerts],
    }


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC day as a half-open interval."""
    start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return start, start + dt.timedelta(days=1)


def digest_title(org: str, day: dt.date, count: int) -> str:
    """The digest's title line."""
    return f"Marsad daily alert digest for {org}, {day.isoformat()}: {count} alerts"
