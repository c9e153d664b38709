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
import struct

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
# 42P01: the bucket's partition, which a batch inside one bucket is COPYed into, is missing.
_SLOW_PATH_CODES = {"23505", "23514", "22001", "22P02", "42P01"}


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


# --- COPY in PostgreSQL's binary format ---------------------------------------------------------
#
# Formatting floats as text costs more than anything else in store() (and PostgreSQL then parses
# them back): binary COPY sends the eight bytes of each double instead. A row is packed by a
# small function made once per shape of the row — which columns are None, which Python type
# each value has — with one struct.pack call. A value of a type the column does not take as is
# (a float for an integer column, a bool for a number, a non-UTF-8 connection) makes the batch
# use the CSV text instead, so PostgreSQL judges such values exactly as before; an integer out
# of range raises struct.error and does the same.

_BINARY_SQL = f"COPY {RAW.name} ({', '.join(FIELDS)}) FROM STDIN WITH (FORMAT binary)"
_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8  # signature, flags, no extension
_BINARY_TRAILER = b"\xff\xff"
_PG_EPOCH = dt.datetime(2000, 1, 1)
_MICROSECOND = dt.timedelta(microseconds=1)
_TEXT_COLUMNS = ("pool_url", "error_class")  # NOT NULL: None is '' (FORCE_NOT_NULL in CSV)


def _binary_kinds() -> dict[str, str] | None:
    kinds = {}
    for name in FIELDS:
        column_type = RAW.c[name].type
        if isinstance(column_type, sa.BigInteger):
            kinds[name] = "int8"
        elif isinstance(column_type, sa.Integer):
            kinds[name] = "int4"
        elif isinstance(column_type, sa.Float):
            kinds[name] = "float8"
        elif isinstance(column_type, sa.Boolean):
            kinds[name] = "bool"
        elif isinstance(column_type, sa.DateTime) and not column_type.timezone:
            kinds[name] = "timestamp"
        elif isinstance(column_type, sa.String) and name in _TEXT_COLUMNS:
            kinds[name] = "text"
        else:
            return None  # a column this encoder does not know: CSV only
    return kinds


_KINDS = _binary_kinds()
# kind -> Python types taken as they are -> (struct code, byte length)
_TAKES = {
    "int4": ({int}, "i", 4),
    "int8": ({int}, "q", 8),
    "float8": ({float, int}, "d", 8),
    "bool": ({bool}, "?", 1),
    "timestamp": ({dt.datetime}, "q", 8),
}
_PACKERS: dict[tuple, object] = {}
_MAX_PACKERS = 512


def _make_packer(types: tuple):
    """The function packing a row whose values have these types, or None (use CSV)."""
    fixed, args, texts = [">h"], [str(len(FIELDS))], []
    for position, kind in enumerate(_KINDS.values()):
        value_type = types[position]
        if kind == "text":
            if value_type not in (str, type(None)):
                return None
            texts.append((position, value_type is str))
            continue
        if texts:
            return None  # text columns come last in FIELDS; anything else is unexpected
        if value_type is type(None):
            fixed.append("i")
            args.append("-1")
            continue
        takes, code, size = _TAKES[kind]
        if value_type not in takes:
            return None
        fixed.append("i" + code)
        value = f"v[{position}]"
        if kind == "timestamp":
            value = f"(v[{position}] - _PG_EPOCH) // _US"
        args += [str(size), value]
    lines = [f"def pack(v, _fixed=_struct.Struct({''.join(fixed)!r}).pack):"]
    parts = [f"_fixed({', '.join(args)})"]
    for position, present in texts:
        if present:
            lines.append(f"    t{position} = v[{position}].encode()")
            parts += [f"len(t{position}).to_bytes(4, 'big')", f"t{position}"]
        else:
            parts.append("b'\\x00\\x00\\x00\\x00'")
    lines.append(f"    return {' + '.join(parts)}")
    namespace = {"_struct": struct, "_PG_EPOCH": _PG_EPOCH, "_US": _MICROSECOND}
    exec("\n".join(lines), namespace)  # noqa: S102 (code built from our own column list)
    return namespace["pack"]


def copy_binary(rows: list[TelemetryRow]) -> bytes | None:
    """The rows in COPY's binary form, or None when a value is not one it sends as is."""
    if _KINDS is None:
        return None
    packers = _PACKERS
    out = [_BINARY_HEADER]
    append = out.append
    try:
        for row in rows:
            values = _as_tuple(row)
            types = tuple(map(type, values))
            pack = packers.get(types, False)
            if pack is False:
                pack = _make_packer(types)
                if len(packers) < _MAX_PACKERS:
                    packers[types] = pack
            if pack is None:
                return None
            append(pack(values))
    except (struct.error, OverflowError, UnicodeEncodeError, TypeError):
        return None  # out of range or not encodable: the CSV path decides, as before
    append(_BINARY_TRAILER)
    return b"".join(out)


def _raw_postgresql(conn, rows: list[TelemetryRow], first: dt.datetime, last: dt.datetime) -> int:
    """COPY into the partitioned raw table, on the session's own connection and transaction.

    COPY is all or nothing: a (miner, ts) already stored, a bucket without a partition or a
    value COPY cannot read makes it fail, and then the batch takes the slow path inside the
    same transaction: create the partitions, INSERT … ON CONFLICT DO NOTHING.
    """
    dbapi = conn.connection.dbapi_connection
    packed = copy_binary(rows) if dbapi.encoding in ("UTF8", "UNICODE") else None
    if packed is not None:
        sql, data = _BINARY_SQL, io.BytesIO(packed)
    else:
        sql, data = _COPY_SQL, copy_text(rows)
    bucket = partitions.RAW.floor(first)
    if partitions.RAW.floor(last) == bucket:
        # The usual batch lies in one 5-minute bucket: COPY straight into its partition, which
        # spares PostgreSQL routing every row (its range still checks each one).
        sql = sql.replace(RAW.name, f'"{partitions.RAW.partition_name(bucket)}"', 1)
    cursor = dbapi.cursor()
    nested = conn.begin_nested()
    try:
        cursor.copy_expert(sql, data)
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
    # The two arrays go as array literals in one text parameter each: psycopg2 would adapt a
    # thousand ints and datetimes one by one into ARRAY[...] SQL, several times slower.
    conn.execute(
        _LIVE_FROM_RAW,
        {
            "miners": "{" + ",".join([str(row.miner_id) for row in rows]) + "}",
            "stamps": "{" + ",".join([ts.isoformat() for ts in stamps]) + "}",
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
