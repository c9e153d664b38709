"""The telemetry jobs as the worker runs them: registered by the hosting plugin, each in a
request and transaction of its own, committing what they wrote."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from pyramid.exceptions import ConfigurationError

from hashinsight_core.db import utcnow
from plugins.hosting.telemetry.config import BUCKET, floor_time
from plugins.hosting.telemetry.models import TelemetryFiveMin, TelemetryRaw, TelemetryWatermark
from plugins.hosting.telemetry.store import store
from tests.unit.plugins.test_telemetry_store import make_row

JOBS = {
    "hosting.telemetry_rollup_5min",
    "hosting.telemetry_rollup_daily",
    "hosting.telemetry_partitions",
    "hosting.telemetry_retention",
}


def test_the_hosting_plugin_schedules_the_telemetry_jobs(registry, make_app):
    assert JOBS <= set(registry["periodic_task_names"])
    _app, without = make_app(plugins=["calculator"])
    assert not JOBS & set(without["periodic_task_names"])


def test_the_jobs_roll_up_and_commit_in_their_own_transactions(registry, dbsession, engine):
    now = utcnow()
    bucket = floor_time(now, BUCKET) - 3 * BUCKET  # closed, well past the grace
    registry["periodic_tasks"]["hosting.telemetry_partitions"].call_local()
    polls = [make_row(m, bucket + dt.timedelta(seconds=30 * k)) for m in (1, 2) for k in range(4)]
    polls.append(make_row(1, now - dt.timedelta(hours=30)))  # beyond raw retention
    assert store(dbsession, polls, now=now) == 8
    dbsession.commit_now()

    registry["periodic_tasks"]["hosting.telemetry_rollup_5min"].call_local()
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(TelemetryFiveMin.miner_id, TelemetryFiveMin.samples).where(
                TelemetryFiveMin.bucket == bucket
            )
        ).all()
        assert sorted(rows) == [(1, 4), (2, 4)]
        mark = conn.scalar(
            sa.select(TelemetryWatermark.value).where(TelemetryWatermark.name == "5min")
        )
        assert bucket < mark <= floor_time(utcnow(), BUCKET)
    # Nothing to do the second time; the other jobs run cleanly on this backend.
    registry["periodic_tasks"]["hosting.telemetry_rollup_5min"].call_local()
    registry["periodic_tasks"]["hosting.telemetry_rollup_daily"].call_local()
    registry["periodic_tasks"]["hosting.telemetry_retention"].call_local()
    with engine.connect() as conn:
        count = conn.scalar(sa.select(sa.func.count()).select_from(TelemetryFiveMin.__table__))
        assert count == 2
        assert conn.scalar(sa.select(sa.func.count()).select_from(TelemetryRaw.__table__)) == 8


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("raw_retention_hours", "a day", "must be a whole number"),
        ("raw_retention_hours", "0", "at least 1"),
        ("rollup_max_buckets", "0", "at least 1"),
    ],
)
def test_a_bad_telemetry_setting_stops_the_start(make_app, key, value, message):
    with pytest.raises(ConfigurationError, match=message):
        make_app(**{f"hosting__telemetry__{key}": value})
