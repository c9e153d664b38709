"""Telemetry storage: raw (24 h), live (one row per miner), 5-minute history (90 days) and
daily rollups, with the huey jobs that keep them. See docs/telemetry.md.

Entry points for other code: :func:`store.store` (receivers), :mod:`read` (views and
dashboards), :mod:`jobs` (the periodic tasks the hosting plugin hands to the core).
"""

from plugins.hosting.telemetry.config import TelemetryConfig


def includeme(config):
    """Check the ``hosting.telemetry.*`` settings at start-up (a typo fails fast)."""
    config.registry["hosting.telemetry.config"] = TelemetryConfig.from_settings(
        config.get_settings()
    )
