"""Access commands: users, API tokens and the audit log; and who a command acts as."""

from __future__ import annotations

import datetime as dt
import getpass
import os
from typing import Annotated

import typer

from marsad.access import audit, identity
from marsad.access.policy import OPERATOR, Grant, Role, Viewer, grant_for
from marsad.cli import instance
from marsad.cli.app import DbOption, JsonOption, app
from marsad.cli.output import emit_json, err, out, table, when
from marsad.model.errors import MarsadError
from marsad.store.store import Store

user_app = typer.Typer(help="Users and their organisations and roles.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens: scoped to an organisation and a role, with expiry.")
audit_app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


def acting(store: Store, as_org: str | None, role: Role = Role.ANALYST) -> tuple[Viewer, Grant]:
    """The viewer a command acts as, and what the policy grants it today."""
    viewer = OPERATOR if as_org is None else store.viewer(as_org, role)
    return viewer, grant_for(viewer, dt.date.today())


def _password(given: bool) -> str | None:
    if not given:
        return None
    if os.environ.get("MARSAD_PASSWORD"):
        return os.environ["MARSAD_PASSWORD"]
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise identity.AccessDenied("the two passwords differ")
    return first


def _users_table(rows: list[identity.UserRow]) -> None:
    table(
        f"{len(rows)} users",
        ["id", "name", "organisations (role)", "disabled"],
        [
            (
                r.id,
                r.name,
                ", ".join(f"{o} ({x.value})" for o, x in r.memberships.items()),
                "yes" if r.disabled else "",
            )
            for r in rows
        ],
    )


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="Unique user name.")],
    org: Annotated[str, typer.Option("--org", help="Organisation the user belongs to.")],
    role: Annotated[Role, typer.Option("--role", help="The user's role there.")] = Role.ANALYST,
    password: Annotated[
        bool,
        typer.Option("--password", help="Set a password (prompted, or $MARSAD_PASSWORD)."),
    ] = False,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Add a user, or add an organisation (and role) to an existing user."""
    store = instance.open_store(db)
    exists = any(u.name == name for u in identity.list_users(store))
    if exists:
        row = identity.add_membership(store, name, org, role)
    else:
        row = identity.add_user(store, name, org, role, _password(password))
    audit.record(store, OPERATOR, "user-add", name, details={"org": org, "role": role.value})
    if json:
        emit_json(row)
    else:
        _users_table([row])


@user_app.command("list")
def user_list(db: DbOption = None, json: JsonOption = False) -> None:
    """List users with their organisations and roles."""
    rows = identity.list_users(instance.open_store(db))
    if json:
        emit_json(rows)
    else:
        _users_table(rows)


@user_app.command("disable")
def user_disable(
    name: Annotated[str, typer.Argument(help="User name.")],
    enable: Annotated[bool, typer.Option("--enable", help="Re-enable instead.")] = False,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Disable a user: their password and every token stop working at once."""
    store = instance.open_store(db)
    row = identity.set_disabled(store, name, not enable)
    audit.record(store, OPERATOR, "user-enable" if enable else "user-disable", name)
    if json:
        emit_json(row)
    else:
        out.print(f"User {name!r} is now {'disabled' if row.disabled else 'enabled'}.")


def _tokens_table(rows: list[identity.TokenRow]) -> None:
    table(
        f"{len(rows)} tokens",
        ["id", "prefix", "user", "organisation", "role", "label", "expires", "revoked",
         "last used"],
        [
            (t.id, t.prefix, t.user, t.org, t.role.value, t.label, when(t.expires_at),
             when(t.revoked_at), when(t.last_used_at))
            for t in rows
        ],
    )  # fmt: skip


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Argument(help="User the token acts for.")],
    org: Annotated[
        str | None, typer.Option("--org", help="Organisation (needed if the user has several).")
    ] = None,
    role: Annotated[
        Role | None, typer.Option("--role", help="Role (default: the user's role there).")
    ] = None,
    days: Annotated[int, typer.Option("--days", help="Days until it expires; 0: never.")] = 90,
    label: Annotated[str | None, typer.Option("--label", help="What it is for.")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Create an API token; its secret is printed once and never stored."""
    store = instance.open_store(db)
    secret, row = identity.create_token(store, user, org, role, days=days or None, label=label)
    audit.record(store, OPERATOR, "token-create", f"{user}@{row.org}", details={"id": row.id})
    if json:
        emit_json({"token": secret, **{k: getattr(row, k) for k in row.__struct_fields__}})
        return
    out.print(f"Token for {user} in {row.org} ({row.role.value}), expires {when(row.expires_at)}:")
    out.print(f"  {secret}")
    err.print("Store it now: it is not shown again.")


@token_app.command("list")
def token_list(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's tokens.")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """List tokens (prefixes, never secrets)."""
    rows = identity.list_tokens(instance.open_store(db), user)
    if json:
        emit_json(rows)
    else:
        _tokens_table(rows)


@token_app.command("revoke")
def token_revoke(
    token: Annotated[str, typer.Argument(help="Token prefix or id, as `marsad token list` shows.")],
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Revoke a token at once."""
    store = instance.open_store(db)
    row = identity.revoke_token(store, token)
    audit.record(store, OPERATOR, "token-revoke", row.prefix, details={"id": row.id})
    if json:
        emit_json(row)
    else:
        out.print(f"Revoked token {row.prefix} of {row.user} in {row.org}.")


@audit_app.command("list")
def audit_list(
    actor: Annotated[str | None, typer.Option("--actor", help="Only this user.")] = None,
    org: Annotated[str | None, typer.Option("--org", help="Only this organisation.")] = None,
    action: Annotated[str | None, typer.Option("--action", help="e.g. search, export.")] = None,
    denied: Annotated[bool, typer.Option("--denied", help="Only denied requests.")] = False,
    since: Annotated[
        str | None, typer.Option("--since", help="Only from this date (YYYY-MM-DD).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many, newest first.")] = 100,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """List audit entries, newest first."""
    try:
        start = dt.datetime.fromisoformat(since).replace(tzinfo=dt.UTC) if since else None
    except ValueError:
        raise MarsadError(f"--since must be a date like 2027-01-31, got {since!r}") from None
    rows = audit.entries(
        instance.open_store(db), actor=actor, org=org, action=action,
        outcome="deny" if denied else None, since=start, limit=limit,
    )  # fmt: skip
    if json:
        emit_json(rows)
        return
    table(
        f"{len(rows)} audit entries",
        ["id", "when", "actor", "organisation", "action", "target", "outcome", "purpose"],
        [(r.id, when(r.at), r.actor, r.org, r.action, r.target[:60], r.outcome, r.purpose)
         for r in rows],
    )  # fmt: skip


@audit_app.command("verify")
def audit_verify(
    expect_head: Annotated[
        str | None,
        typer.Option("--expect-head", help="The head hash recorded earlier, to catch truncation."),
    ] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Recompute the hash chain; exit 1 and name the first bad entry if it was tampered with."""
    report = audit.verify(instance.open_store(db), expect_head)
    if json:
        emit_json(report)
    elif report.ok:
        out.print(f"Audit chain intact: {report.entries:,} entries, head {report.head}")
    if not report.ok:
        raise MarsadError(f"audit chain broken: {report.problem}")
