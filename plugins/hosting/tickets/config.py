"""Settings of the tickets (``hosting.tickets.*`` in the ini); see docs/tickets.md."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pyramid.exceptions import ConfigurationError

from plugins.hosting.tickets.sla import SlaPolicy

MIB = 1024 * 1024


@dataclass(frozen=True)
class TicketConfig:
    # Attachments: images only, at most this many bytes each.
    max_attachment_bytes: int = 5 * MIB
    # At most this many tickets in one bulk action.
    bulk_max: int = 200
    # A CSV/Excel export holds at most this many tickets (the page says when it is cut).
    export_max: int = 50_000
    sla: SlaPolicy = field(default_factory=SlaPolicy)

    @classmethod
    def from_settings(cls, settings: Mapping) -> TicketConfig:
        values: dict = {}
        for name in ("max_attachment_bytes", "bulk_max", "export_max"):
            key = f"hosting.tickets.{name}"
            if key in settings:
                try:
                    values[name] = int(settings[key])
                except ValueError:
                    raise ConfigurationError(f"{key} must be a whole number") from None
                if values[name] < 1:
                    raise ConfigurationError(f"{key} must be at least 1")
        return cls(sla=SlaPolicy.from_settings(settings), **values)


def ticket_config(request) -> TicketConfig:
    config = request.registry.get("hosting.tickets.config")
    if config is None:
        config = TicketConfig.from_settings(request.registry.settings or {})
    return config
