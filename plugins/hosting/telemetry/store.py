"""``store()``: the one way telemetry enters the database (raw + live + late-data marks).

Called by the receivers inside the request's transaction; nothing here commits::

    rows ──┬──> raw    COPY (PostgreSQL) | INSERT … ON CONFLICT DO NOTHING (one per miner, ts)
           ├──> live   newest per miner, upsert; an older poll never wins
           └──> dirty  5-minute buckets of rows that came late (re-rolled by the next run)

Rows older than the raw retention (24 h by default) are not stored: raw would drop them at
once and the rollups no longer look that far back. The return value is the number of raw rows
written, so a caller can tell.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import operator

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hashinsight_core.db import utcnow
from plugins.hosting.telemetry import partitions
from plugins.hosting.telemetry.config import (
    BUCKET,
    TelemetryConfig,
    config_from_request,
    floor_time,
)
from plugins.hosting.telemetry.models import TelemetryDirty, TelemetryLive, TelemetryRaw
from plugins.hosting.telemetry.rows import FIELDS, TelemetryRow
from plugins.hosting.telemetry.txn import mark_written

RAW = TelemetryRaw.__table__
LIVE = TelemetryLive.__table__
DIRTY = TelemetryDirty.__table__
POOL_URL_MAX = 255
ERROR_CLASS_MAX = 64

_COPY_SQL = (
    f"COPY {RAW.name} ({', '.join(FIELDS)}) FROM STDIN "
    # CSV: an unquoted empty field is NULL, except in the two text columns (never NULL).
    "WITH (FORMAT csv, FORCE_NOT_NULL (pool_url, error_class))"
)
_as_tuple = operator.attrgetter(*FIELDS)
# COPY errors that the slow path handles: unique_violation (a poll already stored), check
# violation "no partition of relation found for row", string too long (cut there),
# invalid text (e.g. 4500.0 for an integer column; the insert path converts it).
_SLOW_PATH_CODES = {"23505", "23514", "22001", "22P02"}


def store(
    dbsession,
    rows: list[TelemetryRow],
    *,
    now: dt.datetime | None = None,
    config: TelemetryConfig | None = None,
    late_after: dt.timedelta | None = None,
) -> int:
    """Write ``rows`` to raw and live in the session's transaction; returns raw rows written.

    The same (miner, ts) twice — in one batch or across batches — is stored once (the first
    one stored wins in raw). Timestamps must be naive UTC; aware ones are converted in place.
    """
    if not rows:
        return 0
    if config is None:
        request = dbsession.info.get("request")
        config = config_from_request(request) if request is not None else TelemetryConfig()
    now = now or utcnow()
    horizon = floor_time(now - config.raw_retention, BUCKET)
    # A row older than this marks its bucket for a re-roll. Half the rollup's grace (60 s by
    # default): a bucket rolled while this transaction is still open, which can only happen
    # to rows older than the grace, is then recomputed (docs/telemetry.md, "Late data").
    late_before = now - (late_after if late_after is not None else config.grace / 2)

    # Work over whole columns where possible: this runs for every record received.
    stamps = [row.ts for row in rows]
    if any(ts.tzinfo is not None for ts in stamps):
        for row in rows:
            if row.ts.tzinfo is not None:
                row.ts = row.ts.astimezone(dt.UTC).replace(tzinfo=None)
        stamps = [row.ts for row in rows]
    if min(stamps) < horizon:
        rows = [row for row in rows if row.ts >= horizon]
        if not rows:
            return 0
        stamps = [row.ts for row in rows]
    late_buckets = {floor_time(ts, BUCKET) for ts in stamps if ts < late_before}

    conn = dbsession.connection()
    mark_written(dbsession)
    if partitions.is_postgresql(conn):
        stored = _raw_postgresql(conn, rows, min(stamps), max(stamps))
        _live_postgresql(conn, rows, stamps)
    else:
        stored = _raw_insert(conn, rows)
        _live_insert(conn, rows)
    if late_buckets:
        _mark_late(conn, late_buckets)
    return stored


def _as_dict(row: TelemetryRow) -> dict:
    values = dict(zip(FIELDS, _as_tuple(row), strict=True))
    values["pool_url"] = (values["pool_url"] or "")[:POOL_URL_MAX]
    values["error_class"] = (values["error_class"] or "")[:ERROR_CLASS_MAX]
    return values


def _raw_insert(conn, rows: list[TelemetryRow]) -> int:
    """INSERT … ON CONFLICT DO NOTHING (SQLite, and PostgreSQL's slow path)."""
    dialect_insert = pg_insert if partitions.is_postgresql(conn) else sqlite_insert
    statement = dialect_insert(RAW).on_conflict_do_nothing().returning(RAW.c.miner_id)
    return len(conn.execute(statement, [_as_dict(row) for row in rows]).all())


def copy_text(rows: list[TelemetryRow]) -> io.StringIO:
    """The rows in COPY's CSV form (None -> NULL; csv formats in C, which matters here)."""
    data = io.StringIO()
    csv.writer(data, lineterminator="\n").writerows(map(_as_tuple, rows))
    data.seek(0)
    return data


def _raw_postgresql(conn, rows: list[TelemetryRow], first: dt.datetime, last: dt.datetime) -> int:
    """COPY into the partitioned raw table, on the session's own connection and transaction.

    COPY is all or nothing: a (miner, ts) already stored, a bucket without a partition or a
    value COPY cannot read makes it fail, and then the batch takes the slow path inside the
    same transaction: create the partitions, INSERT … ON CONFLICT DO NOTHING.
    """
    data = copy_text(rows)
    cursor = conn.connection.dbapi_connection.cursor()
    nested = conn.begin_nested()
    try:
        cursor.copy_expert(_COPY_SQL, data)
        nested.commit()
        return len(rows)
    except Exception as error:
        nested.rollback()
        if getattr(error, "pgcode", None) not in _SLOW_PATH_CODES:
            raise
    finally:
        cursor.close()
    partitions.ensure(conn, partitions.RAW, first, last + BUCKET)
    return _raw_insert(conn, rows)


_LIVE_COLUMNS = [c.name for c in LIVE.columns]
_LIVE_UPDATE = ", ".join(f"{n} = EXCLUDED.{n}" for n in _LIVE_COLUMNS if n != "miner_id")
# The live rows come from the raw rows just stored, found by their keys: the newest per
# miner, in miner order, so that concurrent batches lock live rows in the same order (no
# deadlocks). An older poll never replaces a newer one (the WHERE of the update).
_LIVE_FROM_RAW = sa.text(
    f"INSERT INTO {LIVE.name} ({', '.join(_LIVE_COLUMNS)}) "  # noqa: S608 (constant names)
    f"SELECT {', '.join('r.' + n for n in _LIVE_COLUMNS)} "
    "FROM (SELECT DISTINCT ON (miner_id) miner_id, ts "
    "      FROM unnest(CAST(:miners AS integer[]), CAST(:stamps AS timestamp[])) AS k(miner_id, ts)"
    "      ORDER BY miner_id, ts DESC) AS k "
    # One primary-key probe per miner (LATERAL), never a scan of the bucket's partition.
    f"CROSS JOIN LATERAL (SELECT * FROM {RAW.name} "
    "   WHERE miner_id = k.miner_id AND ts = k.ts AND ts >= :first AND ts <= :last) AS r "
    "ORDER BY r.miner_id "
    f"ON CONFLICT (miner_id) DO UPDATE SET {_LIVE_UPDATE} "
    f"WHERE {LIVE.name}.ts < EXCLUDED.ts"
)


def _live_postgresql(conn, rows: list[TelemetryRow], stamps: list[dt.datetime]) -> None:
    conn.execute(
        _LIVE_FROM_RAW,
        {
            "miners": [row.miner_id for row in rows],
            "stamps": stamps,
            "first": min(stamps),
            "last": max(stamps),
        },
    )


def _live_insert(conn, rows: list[TelemetryRow]) -> None:
    newest: dict[int, TelemetryRow] = {}
    for row in rows:
        best = newest.get(row.miner_id)
        if best is None or row.ts > best.ts:
            newest[row.miner_id] = row
    statement = sqlite_insert(LIVE)
    statement = statement.on_conflict_do_update(
        index_elements=[LIVE.c.miner_id],
        set_={name: statement.excluded[name] for name in _LIVE_COLUMNS if name != "miner_id"},
        where=LIVE.c.ts < statement.excluded.ts,
    )
    values = [_as_dict(newest[miner]) for miner in sorted(newest)]
    conn.execute(statement, values)


def _mark_late(conn, buckets: set[dt.datetime]) -> None:
    dialect_insert = pg_insert if partitions.is_postgresql(conn) else sqlite_insert
    conn.execute(
        dialect_insert(DIRTY).on_conflict_do_nothing(),
        [{"layer": "5min", "period": bucket} for bucket in sorted(buckets)],
    )
