"""`marsad enrich …`: offline enrichment (warninglists, country, ASN) and the optional
online look-ups; `enrich_values` is what `marsad search` shows beside its assertions.

Heavy imports (numpy, the compiled lists) happen inside the commands, so that other
commands start as fast as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from marsad.cli import instance
from marsad.cli.output import emit_json, err, out, table
from marsad.model.errors import MarsadError

if TYPE_CHECKING:
    from marsad.enrich.annotate import Enrichment
    from marsad.model.observable import Observable

enrich_app = typer.Typer(
    help="Offline enrichment (MISP warninglists, IP → country and ASN) and optional online look-ups.",
    no_args_is_help=True,
)
online_app = typer.Typer(
    help="Online look-ups (RDAP, DNS) for this instance: off unless enabled.", no_args_is_help=True
)
enrich_app.add_typer(online_app, name="online")

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


class NotAValue(MarsadError):
    """Text that no observable type fits."""


def enrich_values(observables: Sequence[Observable]) -> list[Enrichment]:
    """Warninglist hits, registered domain, country and ASN for normalised observables."""
    from marsad.enrich.annotate import enrich
    from marsad.enrich.loaders import load_asn, load_warninglists

    matcher = load_warninglists(on_compile=lambda note: err.print(f"[dim]{note}[/]"))
    return enrich(observables, warninglists=matcher, asn=load_asn(instance.home()))


def enrichment_json(notes: Sequence[Enrichment]) -> list[dict[str, Any]]:
    """The JSON form: each record plus its ``known_benign`` flag."""
    import msgspec

    return [{**msgspec.to_builtins(n), "known_benign": n.known_benign} for n in notes]


def print_enrichment(notes: Sequence[Enrichment], title: str = "Offline enrichment") -> None:
    """One row per value; warninglist hits name the list and its type."""
    table(
        title,
        ["value", "registered domain", "country", "AS", "AS owner", "warninglists (known-benign)"],
        [
            (
                f"{n.type} {n.value}",
                n.registered_domain,
                n.country,
                f"AS{n.asn}" if n.asn else None,
                n.as_owner,
                "\n".join(f"{h.name} ({h.type})" for h in n.warninglists) or None,
            )
            for n in notes
        ],
    )


@enrich_app.command("show")
def show(
    values: Annotated[
        list[str], typer.Argument(help="Values as typed: defanged or not, any case.")
    ],
    json: JsonOption = False,
) -> None:
    """Type, registered domain, country, ASN/owner and warninglist hits of each value."""
    from marsad.model.normalize import detect

    found = [(v, detect(v)) for v in values]
    unknown = [v for v, o in found if o is None]
    notes = enrich_values([o for _, o in found if o is not None])
    if json:
        emit_json({"values": enrichment_json(notes), "unrecognised": unknown})
    elif notes:
        print_enrichment(notes, f"{len(notes)} values")
    if unknown:
        shown = ", ".join(repr(v) for v in unknown[:5])
        raise NotAValue(
            f"not a value Marsad recognises (IP, domain, URL, e-mail, hash, …): {shown}"
        )


@enrich_app.command("load-asn")
def load_asn_command(
    file: Annotated[
        Path, typer.Argument(help="ip2asn TSV (plain or .gz) or MaxMind-format .mmdb (ASN).")
    ],
    json: JsonOption = False,
) -> None:
    """Import an IP → ASN table into the instance (replacing the previous one)."""
    from marsad.enrich.loaders import import_asn

    report = import_asn(file, instance.home())
    if json:
        emit_json(report)
        return
    out.print(
        f"{file.name}: {report.ranges:,} AS ranges loaded ({report.ipv4_ranges:,} IPv4, "
        f"{report.ipv6_ranges:,} IPv6; {report.format}), {report.not_routed:,} not routed, "
        f"{report.rejected:,} rejected"
    )
    if report.rejections:
        table(None, ["where", "why"], [(b.location, b.reason) for b in report.rejections[:20]])
        if report.rejected > 20:
            out.print(f"  … {report.rejected - 20:,} more (`--json` lists them all)")


@enrich_app.command("lists")
def lists_command(json: JsonOption = False) -> None:
    """The MISP warninglists in use (all of them flag known-benign values)."""
    from marsad.enrich.loaders import load_warninglists, package_version

    matcher = load_warninglists(on_compile=lambda note: err.print(f"[dim]{note}[/]"))
    if json:
        emit_json(
            {
                "package": f"pymispwarninglists {package_version('pymispwarninglists')}",
                "lists": matcher.lists,
            }
        )
        return
    table(
        f"{len(matcher.lists)} warninglists (pymispwarninglists {package_version('pymispwarninglists')})",
        ["name", "type", "entries", "matches"],
        [
            (w.name, w.type, w.entries - w.skipped, ", ".join(w.attributes) or "all types")
            for w in matcher.lists
        ],
    )


def _settings_row(home: Path) -> dict[str, Any]:
    from marsad.enrich.loaders import load_settings

    s = load_settings(home)
    return {"online": s.online, "rdap_url": s.rdap_url, "timeout_s": s.timeout_s}


def _switch(on: bool, rdap_url: str | None, json: bool) -> None:
    import msgspec

    from marsad.enrich.loaders import load_settings, save_settings

    home = instance.home()
    changes: dict[str, Any] = {"online": on}
    if rdap_url:
        if not rdap_url.startswith(("https://", "http://")):
            raise NotAValue(f"--rdap-url must be an http(s) URL, got {rdap_url!r}")
        changes["rdap_url"] = rdap_url
    save_settings(home, msgspec.structs.replace(load_settings(home), **changes))
    _status(json)


def _status(json: bool) -> None:
    row = _settings_row(instance.home())
    if json:
        emit_json(row)
    else:
        state = "[green]on[/]" if row["online"] else "off"
        out.print(
            f"Online enrichment is {state} for {instance.home()} (RDAP via {row['rdap_url']})."
        )


@online_app.command("enable")
def online_enable(
    rdap_url: Annotated[
        str | None,
        typer.Option("--rdap-url", help="RDAP service to ask (default https://rdap.org)."),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Allow RDAP and DNS look-ups of public targets for this instance."""
    _switch(True, rdap_url, json)


@online_app.command("disable")
def online_disable(json: JsonOption = False) -> None:
    """Forbid online look-ups for this instance (the default)."""
    _switch(False, None, json)


@online_app.command("status")
def online_status(json: JsonOption = False) -> None:
    """Whether online look-ups are allowed for this instance."""
    _status(json)


@enrich_app.command("rdap")
def rdap_command(
    value: Annotated[str, typer.Argument(help="Public IP, network, domain or AS number.")],
    json: JsonOption = False,
) -> None:
    """Registration and abuse contacts of a public target, from RDAP (online)."""
    from marsad.enrich.loaders import load_settings
    from marsad.enrich.online import rdap_lookup

    record = rdap_lookup(value, load_settings(instance.home()))
    if json:
        emit_json(record)
        return
    out.print(
        f"{record.query}: {record.object_class or '?'} {record.handle or ''} {record.name or ''} "
        f"{record.country or ''}".rstrip()
    )
    table(
        f"{len(record.abuse)} abuse contacts",
        ["handle", "name", "e-mail", "phone"],
        [
            (c.handle, c.name, ", ".join(c.emails) or None, ", ".join(c.phones) or None)
            for c in record.abuse
        ],
    )


@enrich_app.command("resolve")
def resolve_command(
    domain: Annotated[str, typer.Argument(help="Public domain name.")],
    json: JsonOption = False,
) -> None:
    """A and AAAA records of a public domain (online)."""
    from marsad.enrich.loaders import load_settings
    from marsad.enrich.online import resolve

    result = resolve(domain, load_settings(instance.home()))
    if json:
        emit_json(result)
        return
    table(
        f"{result.name}: {len(result.addresses)} addresses",
        ["type", "address", "public"],
        [(a.type, a.address, "yes" if a.public else "no") for a in result.addresses],
    )
