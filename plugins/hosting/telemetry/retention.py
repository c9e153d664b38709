"""Retention: raw after 24 hours, 5-minute history after 90 days (daily rows are kept).

PostgreSQL drops whole partitions (no row-by-row delete, no vacuum debt); SQLite deletes rows.
Cut-offs are aligned to the partition steps (5-minute buckets, UTC days), so a bucket is either
all there or all gone — a re-roll never sees half a bucket.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hashinsight_core.db import utcnow
from plugins.hosting.telemetry import partitions
from plugins.hosting.telemetry.config import BUCKET, DAY, TelemetryConfig, floor_time
from plugins.hosting.telemetry.models import TelemetryFiveMin, TelemetryRaw
from plugins.hosting.telemetry.txn import mark_written

RAW = TelemetryRaw.__table__
FIVE = TelemetryFiveMin.__table__


@dataclass
class RetentionResult:
    raw_before: dt.datetime
    history_before: dt.datetime
    raw_removed: int  # partitions dropped (PostgreSQL) or rows deleted (SQLite)
    history_removed: int

    def as_dict(self) -> dict:
        return {
            "raw_before": self.raw_before.isoformat(),
            "history_before": self.history_before.isoformat(),
            "raw_removed": self.raw_removed,
            "history_removed": self.history_removed,
        }


def cutoffs(now: dt.datetime, config: TelemetryConfig) -> tuple[dt.datetime, dt.datetime]:
    return (
        floor_time(now - config.raw_retention, BUCKET),
        floor_time(now - config.history_retention, DAY),
    )


def apply_retention(
    dbsession, *, now: dt.datetime | None = None, config: TelemetryConfig | None = None
) -> RetentionResult:
    config = config or TelemetryConfig()
    raw_before, history_before = cutoffs(now or utcnow(), config)
    conn = dbsession.connection()
    mark_written(dbsession)
    if partitions.is_postgresql(conn):
        raw = partitions.drop_before(conn, partitions.RAW, raw_before)
        history = partitions.drop_before(conn, partitions.FIVE_MIN, history_before)
    else:
        raw = conn.execute(RAW.delete().where(RAW.c.ts < raw_before)).rowcount
        history = conn.execute(FIVE.delete().where(FIVE.c.bucket < history_before)).rowcount
    return RetentionResult(raw_before, history_before, raw, history)


def prepare_partitions(
    dbsession, *, now: dt.datetime | None = None, config: TelemetryConfig | None = None
) -> int:
    """PostgreSQL: create the partitions the next hours will need; returns how many."""
    config = config or TelemetryConfig()
    now = now or utcnow()
    conn = dbsession.connection()
    mark_written(dbsession)
    if not partitions.is_postgresql(conn):
        return 0
    ahead = now + dt.timedelta(minutes=config.partitions_ahead_minutes)
    created = partitions.ensure(conn, partitions.RAW, now - BUCKET, ahead)
    created += partitions.ensure(conn, partitions.FIVE_MIN, now - DAY, ahead + DAY)
    return created
