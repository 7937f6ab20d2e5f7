"""The store's assertions and relationships as columns, and one viewer's share of them as a mask.

Scoring, the viewer's graph and the products read the same rows for every viewer; only
which rows a viewer may see differs. So the columns they need are read once per store
version (kept by the store's change counter, `marsad.store.kept`), each row carrying the index
of its marking: every input of the policy's decision (owner, source, TLP, PAP,
releasability, retention date). A viewer's rows are then a boolean mask made by asking the
one policy function, `may_see`, once per distinct marking and indexing the answers by the
rows' marking indices: the rule is never transcribed here, and the grant's day (retention)
is part of the grant the policy is asked with.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import msgspec
import numpy as np
from numpy.typing import NDArray
from sqlalchemy import BigInteger, Connection, Select, cast, func, literal, select

from marsad.access.policy import Grant, Mark, may_see, tokens_of
from marsad.enrich.geo import country_codes
from marsad.store.kept import Kept  # results kept per store version
from marsad.store.schema import (
    assertion_sources,
    assertions,
    observables,
    organisations,
    relationships,
)
from marsad.store.store import Store

Ints = NDArray[np.int64]
Bools = NDArray[np.bool_]
Floats = NDArray[np.float64]
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class StoreColumns(msgspec.Struct, frozen=True, kw_only=True):
    """Every assertion (in id order) and relationship, as columns, with their markings."""

    sqlite: bool  # ages are Julian days (SQLite) or epoch microseconds (PostgreSQL)
    marks: tuple[Mark, ...]  # distinct markings; rows point at them
    obs_ids: Ints  # every observable id, sorted
    obs_refs: NDArray[np.object_]  # "type:value" of each, same order
    # assertions
    a_id: Ints
    a_obs: Ints  # observable id
    a_source: Ints
    a_mark: Ints  # index into marks
    a_reliability: NDArray[np.object_]  # str
    a_credibility: Ints
    a_sightings: Floats
    a_threat: NDArray[np.object_]  # str
    a_seen: Floats  # last sighting: julianday (SQLite) or epoch µs (PostgreSQL); NaN unknown
    a_relevant_to: NDArray[np.object_]  # the source's country
    a_located_in: NDArray[np.object_]  # the country an IP observable is located in, else None
    a_first: NDArray[Any]  # first and last sighting as the database compares them: the
    a_last: NDArray[Any]  # stored text (SQLite), epoch µs (PostgreSQL); see `moment_bound`
    a_first_null: Bools
    a_last_null: Bools
    a_revoked: Bools
    a_threat_rank: Ints  # the threat type's place in byte order (the index's order)
    # assertion sources: (observable, submission) of each, sorted; the assertion row of each
    s_row: Ints
    s_obs: Ints
    s_sub: Ints
    # relationships
    r_src: Ints  # observable id of source_ref (-1: not a stored value)
    r_dst: Ints
    r_kind: Ints  # index into kinds
    kinds: tuple[str, ...]
    r_mark: Ints
    r_id: Ints  # relationships are in id order
    memo: dict[str, Any] = msgspec.field(default_factory=dict)  # what readers derive from it


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _moment(column: Any, sqlite: bool) -> Any:
    if sqlite:  # the stored text, compared as text with the bound moment by SQLite
        return column
    return cast(func.extract("epoch", column) * 1_000_000, BigInteger)


def moment_bound(store: Store, value: dt.datetime) -> Any:
    """A moment as the database compares a timestamp column with it: SQLAlchemy's own text
    for the bound parameter on SQLite, exact epoch microseconds on PostgreSQL."""
    if store.dialect.sqlite:
        column = assertions.c.first_seen.type
        bind = column.dialect_impl(store.engine.dialect).bind_processor(store.engine.dialect)
        return bind(value) if bind else str(value)
    return (value.astimezone(dt.UTC) - EPOCH) // dt.timedelta(microseconds=1)


def _moments(values: Sequence[Any], sqlite: bool) -> tuple[NDArray[Any], Bools]:
    null = np.array([v is None for v in values], dtype=bool)
    if sqlite:  # a null's text ("None") is never compared: the null mask decides
        return text_array([str(v) for v in values]), null
    return np.array([0 if v is None else int(v) for v in values], dtype=np.int64), null


def _seen(sqlite: bool) -> Any:
    seen = assertions.c.last_seen
    if sqlite:  # the very value `julianday(last_seen)` the SQL scoring subtracted from
        return func.julianday(seen)
    return cast(func.extract("epoch", seen) * 1_000_000, BigInteger)  # exact microseconds


PIECE = 4096
"""Rows or values per single C call on the paths that build kept results in the background
(`marsad.store.kept`): such a call holds the interpreter from the request threads beside the
build for its whole length, so one ``fetchall`` of 170k rows held them for 100-400 ms."""


def _pieces(conn: Connection, query: Select[Any]) -> Iterator[list[Any]]:
    """The rows of a query without parameters, ``PIECE`` at a time, straight from the
    driver's cursor (SQLAlchemy's row objects cost as much again as the database's own work
    on 300k rows)."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        sql = query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        cursor.execute(str(sql))
        while part := cursor.fetchmany(PIECE):
            yield list(part)
    finally:
        cursor.close()


def raw_rows(conn: Connection, query: Select[Any]) -> list[Any]:
    """All rows of a query without parameters, read in bounded pieces (`_pieces`)."""
    out: list[Any] = []
    for part in _pieces(conn, query):
        out.extend(part)
    return out


def raw_columns(conn: Connection, query: Select[Any], width: int) -> list[list[Any]]:
    """The ``width`` columns of a query's rows as lists, transposed a piece at a time."""
    out: list[list[Any]] = [[] for _ in range(width)]
    for part in _pieces(conn, query):
        for column, values in zip(out, zip(*part, strict=True), strict=True):
            column.extend(values)
    return out


def release(*made: list[Any] | dict[Any, Any]) -> None:
    """Empty large lists and dicts ``PIECE`` items at a time before a build returns: freeing
    them all when the function's frame ends is one C call (80-300 ms for `read_columns`'s
    rows beside requests)."""
    for items in made:
        if isinstance(items, dict):
            while items:
                for _ in range(min(PIECE, len(items))):
                    items.popitem()
        else:
            while items:
                del items[-PIECE:]


def text_array(values: Sequence[str]) -> NDArray[np.str_]:
    """``np.array(values, dtype=str)``, converted ``PIECE`` values at a time."""
    width = max(map(len, values), default=0) or 1
    out: NDArray[np.str_] = np.empty(len(values), dtype=f"<U{width}")
    for lo in range(0, len(values), PIECE):
        out[lo : lo + PIECE] = values[lo : lo + PIECE]
    return out


def read_columns(store: Store) -> StoreColumns:
    """Read the columns once (one snapshot), with each row's marking index."""
    a, r, s, o = assertions.c, relationships.c, assertion_sources.c, observables.c
    sqlite = store.dialect.sqlite
    with store.engine.connect() as conn, conn.begin():
        obs: list[Any] = raw_rows(conn, select(o.id, o.type, o.value).order_by(o.id))
        cols: list[list[Any]] = raw_columns(conn,
            select(a.id, a.observable_id, a.source_org_id, a.owner_org_id, a.tlp, a.pap,
                   a.releasable_to, a.retain_until, a.reliability, a.credibility,
                   a.sightings, a.threat_type, _seen(sqlite), organisations.c.country,
                   _moment(a.first_seen, sqlite), _moment(a.last_seen, sqlite),
                   a.revoked_at.is_not(None))
            .join(organisations, organisations.c.id == a.source_org_id)
            .order_by(a.id), 17,
        )  # fmt: skip
        rrows: list[Any] = raw_rows(conn,
            select(r.source_ref, r.target_ref, r.type, r.source_org_id, r.tlp, r.pap,
                   r.releasable_to, r.retain_until, r.id).order_by(r.id),
        )  # fmt: skip
        srows: list[Any] = raw_rows(conn, select(s.assertion_id, s.submission_id))
    obs_ids = np.fromiter((x[0] for x in obs), np.int64, len(obs))
    refs = [f"{x[1]}:{x[2]}" for x in obs]
    by_ref = dict(zip(refs, obs_ids.tolist(), strict=True))
    ip = {int(x[0]): str(x[2]) for x in obs if x[1] in ("ipv4", "ipv6")}
    located = dict(zip(ip, country_codes(list(ip.values())), strict=True))
    marks: dict[tuple[Any, ...], int] = {}
    a_mark = [
        marks.setdefault(m, len(marks)) for m in zip(cols[3], cols[2], *cols[4:8], strict=True)
    ]
    r_mark = [marks.setdefault((x[3], x[3], x[4], x[5], x[6], x[7]), len(marks)) for x in rrows]
    kinds: dict[str, int] = {}
    a_id = np.array(cols[0], dtype=np.int64)
    a_obs = np.array(cols[1], dtype=np.int64)
    s_assertion = np.array([x[0] for x in srows], dtype=np.int64)
    s_row = np.searchsorted(a_id, s_assertion)
    known = (s_row < len(a_id)) & (a_id[np.minimum(s_row, len(a_id) - 1)] == s_assertion)
    s_row = s_row[known]
    s_sub = np.array([x[1] for x in srows], dtype=np.int64)[known]
    s_obs = a_obs[s_row]
    order = np.lexsort((s_sub, s_obs))
    threats = np.array([str(x) for x in cols[11]], dtype=object)
    names = sorted(set(threats.tolist()), key=lambda t: t.encode())
    rank = {t: k for k, t in enumerate(names)}
    first, first_null = _moments(cols[14], sqlite)
    last, last_null = _moments(cols[15], sqlite)
    made = StoreColumns(
        sqlite=sqlite,
        marks=tuple(
            Mark(
                owner_org_id=int(owner),
                source_org_id=int(source),
                tlp=int(tlp),
                pap=int(pap),
                releasable_to=tokens_of(rel),
                retain_until=_date(retain),
            )
            for owner, source, tlp, pap, rel, retain in marks
        ),
        obs_ids=obs_ids,
        obs_refs=np.array(refs, dtype=object),
        a_id=a_id,
        a_obs=a_obs,
        a_source=np.array(cols[2], dtype=np.int64),
        a_mark=np.array(a_mark, dtype=np.int64),
        a_reliability=np.array([str(x) for x in cols[8]], dtype=object),
        a_credibility=np.array(cols[9], dtype=np.int64),
        a_sightings=np.array(cols[10], dtype=np.float64),
        a_threat=threats,
        a_seen=np.array(cols[12], dtype=np.float64),  # None: NaN
        a_relevant_to=np.array(cols[13], dtype=object),
        a_located_in=np.array([located.get(int(i)) for i in cols[1]], dtype=object),
        a_first=first,
        a_last=last,
        a_first_null=first_null,
        a_last_null=last_null,
        a_revoked=np.array([bool(x) for x in cols[16]], dtype=bool),
        a_threat_rank=np.array([rank[t] for t in threats.tolist()], dtype=np.int64),
        s_row=s_row[order],
        s_obs=s_obs[order],
        s_sub=s_sub[order],
        r_src=np.array([by_ref.get(str(x[0]), -1) for x in rrows], dtype=np.int64),
        r_dst=np.array([by_ref.get(str(x[1]), -1) for x in rrows], dtype=np.int64),
        r_kind=np.array([kinds.setdefault(str(x[2]), len(kinds)) for x in rrows], dtype=np.int64),
        kinds=tuple(kinds),
        r_mark=np.array(r_mark, dtype=np.int64),
        r_id=np.array([x[8] for x in rrows], dtype=np.int64),
    )
    release(obs, refs, by_ref, ip, located, rrows, srows, *cols)
    return made


def allowed(cols: StoreColumns, grant: Grant) -> Bools:
    """Per distinct marking, whether the grant covers it: the policy's own answer."""
    return np.fromiter((may_see(grant, m) for m in cols.marks), bool, len(cols.marks))


def masks(cols: StoreColumns, grant: Grant) -> tuple[Bools, Bools]:
    """The assertion rows and the relationship rows the grant covers (kept with the columns
    for the last few grants: the products ask once per country)."""
    memo: dict[Grant, tuple[Bools, Bools]] = cols.memo.setdefault("masks", {})
    hit = memo.get(grant)
    if hit is None:
        ok = allowed(cols, grant)
        hit = (ok[cols.a_mark], ok[cols.r_mark])
        if len(memo) >= 8:
            memo.clear()
        memo[grant] = hit
    return hit


def member_of(values: Ints, wanted: Ints) -> Bools:
    """``np.isin(values, wanted)`` for non-negative ids, by a lookup table."""
    top = max(int(values.max(initial=-1)), int(wanted.max(initial=-1))) + 1
    table = np.zeros(top, dtype=bool)
    table[wanted] = True
    found: Bools = table[values]
    return found


def in_period(store: Store, cols: StoreColumns, start: dt.datetime, end: dt.datetime) -> Bools:
    """Assertions seen in [start, end), not revoked, not benign: the products' period test
    (`activity_data._in_period`) on the columns, comparing as the database does."""
    memo: dict[tuple[dt.datetime, dt.datetime], Bools] = cols.memo.setdefault("periods", {})
    if (start, end) in memo:
        return memo[(start, end)]
    low, high = moment_bound(store, start), moment_bound(store, end)
    inside: Bools = (
        (cols.a_first_null | (cols.a_first < high))
        & (cols.a_last_null | (cols.a_last >= low))
        & ~cols.a_revoked
        & (cols.a_threat != "benign")
    )
    if len(memo) >= 8:
        memo.clear()
    memo[(start, end)] = inside
    return inside


def age_days(store: Store, cols: StoreColumns, now: dt.datetime) -> Floats:
    """Days from each assertion's last sighting to ``now``, computed as the database did:
    the same subtraction of Julian days on SQLite, epoch seconds over 86,400 on PostgreSQL."""
    if cols.sqlite:
        moment = now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        with store.engine.connect() as conn:
            jd_now = float(conn.execute(select(func.julianday(literal(moment)))).scalar_one())
        return jd_now - cols.a_seen
    now_us = (now.astimezone(dt.UTC) - EPOCH) // dt.timedelta(microseconds=1)
    return (float(now_us) - cols.a_seen) / 1e6 / 86400.0


_kept: Kept[StoreColumns] = Kept(size=2, ttl=None)  # made from the data alone


def kept_columns(store: Store) -> StoreColumns:
    """The columns of the store's current version, read once for every viewer."""
    return _kept.get(store, "columns", lambda: read_columns(store))


def busy_observables(cols: StoreColumns, seen: Bools, max_submissions: int) -> Ints:
    """Observables whose visible assertions come from more than ``max_submissions``
    distinct submissions (the over-correlation rule), sorted."""
    keep = seen[cols.s_row]
    obs, sub = cols.s_obs[keep], cols.s_sub[keep]  # still sorted by (observable, submission)
    first = np.r_[True, (obs[1:] != obs[:-1]) | (sub[1:] != sub[:-1])] if len(obs) else keep[:0]
    obs = obs[first]
    if not len(obs):
        return obs
    start = np.flatnonzero(np.r_[True, obs[1:] != obs[:-1]])
    counts = np.diff(np.r_[start, len(obs)])
    busy: Ints = obs[start][counts > max_submissions]
    return busy
