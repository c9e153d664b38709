"""Domain events: emitted inside a transaction, delivered to plugins after it commits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from hashinsight_core.tasks import job


@dataclass(frozen=True)
class DomainEvent:
    tag: str  # "<source>:<subject>:<action>", e.g. "hosting:site:create"
    data: dict = field(default_factory=dict)
    at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat())


@job
def deliver(request, tag: str, data: dict, at: str) -> None:
    event = DomainEvent(tag=tag, data=data, at=at)
    request.registry.plugin_manager.hook.hashinsight_event(request=request, event=event)


def emit(request, tag: str, **data) -> None:
    """Deliver ``tag`` to every plugin's ``hashinsight_event`` once this transaction commits."""
    event = DomainEvent(tag=tag, data=data)
    request.enqueue(deliver, event.tag, event.data, event.at)


def includeme(config):
    config.add_request_method(emit, "emit")
