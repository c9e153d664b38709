"""Huey periodic jobs of the telemetry layer: rollups, partitions and retention.

Each runs in a request and a transaction of its own (``hashinsight_core.tasks``); the core's
``lock_task`` keeps one consumer's run from overlapping another's, and the watermark lock in
the database makes even an overlapping run harmless.
"""

from __future__ import annotations

import logging

from huey import crontab

from hashinsight_core.tasks import PeriodicTask
from plugins.hosting.telemetry.config import config_from_request

log = logging.getLogger(__name__)


def rollup_5min_job(request) -> dict:
    from plugins.hosting.telemetry.rollup import rollup_5min

    result = rollup_5min(request.dbsession, config=config_from_request(request)).as_dict()
    log.info("telemetry 5-minute rollup: %s", result)
    return result


def rollup_daily_job(request) -> dict:
    from plugins.hosting.telemetry.rollup import rollup_daily

    result = rollup_daily(request.dbsession, config=config_from_request(request)).as_dict()
    log.info("telemetry daily rollup: %s", result)
    return result


def partitions_job(request) -> int:
    from plugins.hosting.telemetry.retention import prepare_partitions

    return prepare_partitions(request.dbsession, config=config_from_request(request))


def retention_job(request) -> dict:
    from plugins.hosting.telemetry.retention import apply_retention

    result = apply_retention(request.dbsession, config=config_from_request(request)).as_dict()
    log.info("telemetry retention: %s", result)
    return result


def periodic_tasks() -> list[PeriodicTask]:
    return [
        PeriodicTask(crontab(minute="*"), rollup_5min_job, "hosting.telemetry_rollup_5min"),
        PeriodicTask(crontab(minute="*/10"), rollup_daily_job, "hosting.telemetry_rollup_daily"),
        PeriodicTask(crontab(minute="*/10"), partitions_job, "hosting.telemetry_partitions"),
        PeriodicTask(crontab(minute="*/15"), retention_job, "hosting.telemetry_retention"),
    ]
