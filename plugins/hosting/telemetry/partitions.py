"""PostgreSQL partitions of the raw (one per 5-minute bucket) and 5-minute (one per UTC day)
tables: created ahead by a job or on demand, dropped whole by retention.

A partition is named after its parent and the start of its range
(``hosting_telemetry_raw_20261203_1205``, ``hosting_telemetry_5min_20261203``) and lives in the
parent's schema (the first schema of the search path). Nothing here runs on SQLite.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from plugins.hosting.telemetry.config import BUCKET, DAY, floor_time

# Errors two sessions get when they create the same partition at the same moment.
_DUPLICATE_CODES = {"42P07", "23505"}


@dataclass(frozen=True)
class PartitionedTable:
    name: str
    step: dt.timedelta
    stamp: str  # strftime format of the partition's start in its name

    def floor(self, value: dt.datetime) -> dt.datetime:
        return floor_time(value, self.step)

    def partition_name(self, start: dt.datetime) -> str:
        return f"{self.name}_{start.strftime(self.stamp)}"

    def starts(self, first: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
        """Starts of the partitions covering [first, end)."""
        out = []
        start = self.floor(first)
        while start < end:
            out.append(start)
            start += self.step
        return out


RAW = PartitionedTable("hosting_telemetry_raw", BUCKET, "%Y%m%d_%H%M")
FIVE_MIN = PartitionedTable("hosting_telemetry_5min", DAY, "%Y%m%d")


def is_postgresql(conn) -> bool:
    return conn.dialect.name == "postgresql"


def existing(conn, table: PartitionedTable) -> dict[dt.datetime, str]:
    """start -> name of the partitions of ``table`` (names not in our pattern are ignored)."""
    rows = conn.execute(
        sa.text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(:parent)"
        ),
        {"parent": table.name},
    ).scalars()
    found = {}
    prefix = table.name + "_"
    for name in rows:
        if not name.startswith(prefix):
            continue
        try:
            start = dt.datetime.strptime(name[len(prefix) :], table.stamp)
        except ValueError:
            continue
        found[start] = name
    return found


def ensure(conn, table: PartitionedTable, first: dt.datetime, end: dt.datetime) -> int:
    """Create the missing partitions covering [first, end); returns how many were created."""
    starts = table.starts(first, end)
    if not starts:
        return 0
    have = existing(conn, table)
    created = 0
    for start in starts:
        if start in have:
            continue
        name = table.partition_name(start)
        # A savepoint, so that losing a race with another session creating the same
        # partition does not abort the caller's transaction.
        nested = conn.begin_nested()
        try:
            conn.execute(
                sa.text(
                    f'CREATE TABLE IF NOT EXISTS "{name}" PARTITION OF "{table.name}" '
                    f"FOR VALUES FROM ('{start.isoformat(' ')}') "
                    f"TO ('{(start + table.step).isoformat(' ')}')"
                )
            )
            nested.commit()
            created += 1
        except sa.exc.DBAPIError as error:
            nested.rollback()
            if getattr(error.orig, "pgcode", None) not in _DUPLICATE_CODES:
                raise
    return created


def drop_before(conn, table: PartitionedTable, cutoff: dt.datetime, lock_timeout="2s") -> int:
    """Drop the partitions whose whole range is before ``cutoff``; returns how many.

    Dropping a partition briefly locks the parent; ``lock_timeout`` keeps a long dashboard
    query from making ingest queue behind the drop (the next run tries again).
    """
    dropped = 0
    conn.execute(sa.text(f"SET LOCAL lock_timeout = '{lock_timeout}'"))
    for start, name in sorted(existing(conn, table).items()):
        if start + table.step > cutoff:
            break
        conn.execute(sa.text(f'DROP TABLE "{name}"'))
        dropped += 1
    conn.execute(sa.text("SET LOCAL lock_timeout = DEFAULT"))
    return dropped
