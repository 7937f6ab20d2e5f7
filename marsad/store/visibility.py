"""The access policy's grant as a SQL predicate, so bulk reads filter in the database.

This is a direct transcription of `marsad.access.policy.may_see`; a property test keeps the
two in agreement on both engines. Releasability is stored as a compact JSON list of
tokens, so "the list contains token T" is a case-sensitive substring test for the token's
exact JSON spelling (quotes included, so ``org:Fiji`` never matches ``org:Fiji CCU``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Integer, Table, and_, false, literal, or_, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from marsad.access.policy import Grant, json_token
from marsad.model.handling import TLP


class _position(FunctionElement[int]):
    """Where the second argument first occurs in the first (1-based, 0 if nowhere), exactly on
    both engines: SQLite's LIKE ignores ASCII case, so ``org:FIJI CCU`` would match a record
    released only to ``org:Fiji CCU``."""

    type = Integer()
    inherit_cache = True
    name = "instr"


@compiles(_position)
def _instr(element: _position, compiler: SQLCompiler, **kw: Any) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


@compiles(_position, "postgresql")
def _strpos(element: _position, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"


def _contains(column: Any, token: str) -> ColumnElement[bool]:
    return _position(column, literal(json_token(token))) > 0


def _any_token(column: Any, tokens: frozenset[str]) -> ColumnElement[bool]:
    return or_(false(), *(_contains(column, t) for t in sorted(tokens)))


def visible(grant: Grant, table: Table) -> ColumnElement[bool]:
    """Rows of ``table`` (assertions, entities, relationships) the grant covers."""
    if grant.everything:
        return true()
    c = table.c
    owner_col = c.owner_org_id if "owner_org_id" in c else c.source_org_id
    own = sorted(grant.own_org_ids)
    rel = c.releasable_to
    empty = rel == literal("[]")
    live = or_(c.retain_until.is_(None), c.retain_until >= grant.today)
    by_tlp = or_(
        c.tlp <= grant.open_tlp,
        and_(
            c.tlp == TLP.AMBER.rank,
            or_(
                _any_token(rel, grant.amber),
                and_(empty, true() if grant.default_recipient else false()),
            ),
        ),
        and_(
            c.tlp == TLP.AMBER_STRICT.rank,
            or_(
                _any_token(rel, grant.strict),
                and_(empty, true() if grant.default_recipient else false()),
            ),
        ),
        and_(c.tlp == TLP.RED.rank, _any_token(rel, grant.red)),
    )
    mine: list[ColumnElement[bool]] = []
    if own:
        mine = [owner_col.in_(own), c.source_org_id.in_(own)]
    return or_(*mine, and_(live, by_tlp))


def action_visible(grant: Grant, actions: Table, records: Table) -> ColumnElement[bool]:
    """Actions taken (``actions.org_id``) on ``records`` rows the grant may see: the SQL twin
    of `marsad.access.policy.may_see_action`."""
    if grant.everything:
        return true()
    own = sorted(grant.own_org_ids)
    if not own:
        return false()
    c = records.c
    parties = or_(actions.c.org_id.in_(own), c.owner_org_id.in_(own), c.source_org_id.in_(own))
    return and_(visible(grant, records), parties)
