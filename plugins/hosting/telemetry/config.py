"""Settings of the telemetry layer (``hosting.telemetry.*`` in the ini) and time helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields

from pyramid.exceptions import ConfigurationError

BUCKET = dt.timedelta(minutes=5)
DAY = dt.timedelta(days=1)
EPOCH = dt.datetime(2000, 1, 1)


def floor_time(value: dt.datetime, step: dt.timedelta) -> dt.datetime:
    """The start of the ``step``-long period holding ``value`` (periods aligned to 2000-01-01)."""
    return value - (value - EPOCH) % step


@dataclass(frozen=True)
class TelemetryConfig:
    """Every knob, with the defaults the docs describe (docs/telemetry.md, "Settings")."""

    raw_retention_hours: int = 24
    history_retention_days: int = 90
    # A bucket is rolled up once it ended this long ago: uploads arrive a little after the
    # poll. Rows that arrive later still are "late" and re-roll their bucket.
    rollup_grace_seconds: int = 120
    # Catching up after downtime: at most this many 5-minute buckets / days per run.
    rollup_max_buckets: int = 12
    rollup_max_days: int = 2
    # At most this many late buckets (or days) re-rolled per run; the rest wait for the next.
    reroll_max: int = 48
    # PostgreSQL: raw partitions created this far ahead of now.
    partitions_ahead_minutes: int = 120
    # PostgreSQL: memory for the rollup's hash aggregates (SET LOCAL work_mem).
    rollup_work_mem: str = "256MB"
    # Fleet status from the live table.
    stale_after_seconds: int = 300
    temp_warning_c: float = 85.0
    low_hashrate_ratio: float = 0.8

    @property
    def raw_retention(self) -> dt.timedelta:
        return dt.timedelta(hours=self.raw_retention_hours)

    @property
    def history_retention(self) -> dt.timedelta:
        return dt.timedelta(days=self.history_retention_days)

    @property
    def grace(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.rollup_grace_seconds)

    @property
    def stale_after(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.stale_after_seconds)

    @classmethod
    def from_settings(cls, settings: Mapping) -> TelemetryConfig:
        values = {}
        for field in fields(cls):
            key = f"hosting.telemetry.{field.name}"
            if key not in settings:
                continue
            raw = settings[key]
            kind, described = {
                "int": (int, "a whole number"),
                "float": (float, "a number"),
                "str": (str, "text"),
            }[field.type]
            try:
                values[field.name] = kind(raw)
            except ValueError:
                raise ConfigurationError(f"{key} must be {described}, not {raw!r}") from None
        config = cls(**values)
        if config.raw_retention_hours < 1 or config.history_retention_days < 1:
            raise ConfigurationError("hosting.telemetry retention must be at least 1 hour / day")
        if config.rollup_max_buckets < 1 or config.rollup_max_days < 1:
            raise ConfigurationError("hosting.telemetry.rollup_max_* must be at least 1")
        return config


def config_from_request(request) -> TelemetryConfig:
    config = request.registry.get("hosting.telemetry.config")
    if config is None:
        config = TelemetryConfig.from_settings(request.registry.settings or {})
    return config
