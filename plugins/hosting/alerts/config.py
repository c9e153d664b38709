"""Settings of the alerts (``hosting.alerts.*`` in the ini); see docs/alerts.md."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from pyramid.exceptions import ConfigurationError


@dataclass(frozen=True)
class AlertConfig:
    # An edge device counts as silent once its last upload is older than this.
    device_quiet_seconds: int = 120
    # Webhooks: each POST waits at most this long; failures are retried by huey.
    webhook_timeout_seconds: float = 5.0
    webhook_retries: int = 5
    webhook_retry_delay_seconds: int = 60
    # At most this many alerts in one webhook body (a bigger batch becomes several POSTs).
    webhook_batch: int = 500
    # At most this many alerts listed in one e-mail (the rest are counted).
    mail_list_max: int = 25

    @classmethod
    def from_settings(cls, settings: Mapping) -> AlertConfig:
        values = {}
        for field in fields(cls):
            key = f"hosting.alerts.{field.name}"
            if key not in settings:
                continue
            kind = float if field.type == "float" else int
            try:
                values[field.name] = kind(settings[key])
            except ValueError:
                raise ConfigurationError(f"{key} must be a number, not {settings[key]!r}") from None
            if values[field.name] < 0:
                raise ConfigurationError(f"{key} must not be negative")
        config = cls(**values)
        if config.webhook_batch < 1 or config.mail_list_max < 1:
            raise ConfigurationError("hosting.alerts.webhook_batch and mail_list_max must be >= 1")
        if not 0 < config.webhook_timeout_seconds <= 60:
            raise ConfigurationError("hosting.alerts.webhook_timeout_seconds must be 0 to 60")
        return config


def alert_config(request) -> AlertConfig:
    config = request.registry.get("hosting.alerts.config")
    if config is None:
        config = AlertConfig.from_settings(request.registry.settings or {})
    return config
