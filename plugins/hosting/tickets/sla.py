"""SLA clocks of tickets: pure functions of a ticket's times and a policy, no database, no
clock of their own (every function takes ``now``), so they are tested with a frozen clock.

Two targets per priority: the *response* (first reply or status change by staff) and the
*resolution* (status resolved). The clock stops while the ticket waits on the customer and
while it is resolved or closed; the stopped time moves both due times later::

    opened      paused (waiting_customer)   resumed           resolved
      |-----------|=========================|-----------------|
      due = opened + target + stopped time (response: only stops before the first reply)

A target missed stays missed (the breach flags never go back to false).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from pyramid.exceptions import ConfigurationError

PAUSED_STATUSES = frozenset({"waiting_customer", "resolved", "closed"})
# (response hours, resolution hours)
DEFAULT_TARGETS: dict[str, tuple[float, float]] = {
    "urgent": (1, 8),
    "high": (4, 24),
    "normal": (8, 72),
    "low": (24, 120),
}
DUE_SOON = 0.25  # a clock with less than this share of its target left is "due soon"


@dataclass(frozen=True)
class SlaPolicy:
    targets: Mapping[str, tuple[float, float]] = field(
        default_factory=lambda: dict(DEFAULT_TARGETS)
    )

    def response(self, priority: str) -> dt.timedelta:
        return dt.timedelta(hours=self.targets[priority][0])

    def resolution(self, priority: str) -> dt.timedelta:
        return dt.timedelta(hours=self.targets[priority][1])

    @classmethod
    def from_settings(cls, settings: Mapping) -> SlaPolicy:
        """``hosting.tickets.sla.<priority> = <response hours> <resolution hours>``."""
        targets = dict(DEFAULT_TARGETS)
        for priority in DEFAULT_TARGETS:
            key = f"hosting.tickets.sla.{priority}"
            if key not in settings:
                continue
            parts = str(settings[key]).replace("/", " ").split()
            try:
                response, resolution = (float(p) for p in parts)
            except ValueError:
                raise ConfigurationError(
                    f"{key} must be two numbers of hours (response resolution), "
                    f"not {settings[key]!r}"
                ) from None
            if not 0 < response <= resolution:
                raise ConfigurationError(f"{key}: hours must be > 0, response <= resolution")
            targets[priority] = (response, resolution)
        return cls(targets)


class Clock:
    """The SLA fields of a ticket (any object with these attributes; a Ticket is one)."""

    priority: str
    status: str
    created_at: dt.datetime
    first_response_at: dt.datetime | None
    resolved_at: dt.datetime | None
    response_due_at: dt.datetime
    resolution_due_at: dt.datetime
    paused_seconds: int
    paused_since: dt.datetime | None
    response_breached: bool
    resolution_breached: bool


def start(ticket, policy: SlaPolicy, now: dt.datetime) -> None:
    """A new ticket's clock: due times from ``now``."""
    ticket.created_at = now
    ticket.paused_seconds = 0
    ticket.paused_since = None
    ticket.response_breached = False
    ticket.resolution_breached = False
    ticket.first_response_at = None
    ticket.response_due_at = now + policy.response(ticket.priority)
    ticket.resolution_due_at = now + policy.resolution(ticket.priority)


def reprioritize(ticket, policy: SlaPolicy) -> None:
    """The targets of the ticket's (new) priority, counted from its opening plus stopped time."""
    stopped = dt.timedelta(seconds=ticket.paused_seconds or 0)
    if ticket.first_response_at is None:
        ticket.response_due_at = ticket.created_at + policy.response(ticket.priority) + stopped
    ticket.resolution_due_at = ticket.created_at + policy.resolution(ticket.priority) + stopped


def pause(ticket, now: dt.datetime) -> None:
    if ticket.paused_since is None:
        ticket.paused_since = now


def resume(ticket, now: dt.datetime) -> None:
    """Restart a stopped clock: the stop moves the due times (the response only before the
    first response)."""
    if ticket.paused_since is None:
        return
    stopped = max(now - ticket.paused_since, dt.timedelta(0))
    ticket.paused_seconds = (ticket.paused_seconds or 0) + int(stopped.total_seconds())
    ticket.resolution_due_at += stopped
    if ticket.first_response_at is None:
        ticket.response_due_at += stopped
    ticket.paused_since = None


def follow_status(ticket, status: str, now: dt.datetime) -> None:
    """Stop or restart the clock for a move to ``status`` (call before setting it)."""
    if status in PAUSED_STATUSES:
        pause(ticket, now)
    else:
        resume(ticket, now)


def responded(ticket, now: dt.datetime) -> None:
    """The first reply or status change by staff stops the response clock."""
    if ticket.first_response_at is None:
        ticket.first_response_at = now


def _effective_now(ticket, now: dt.datetime) -> dt.datetime:
    return ticket.paused_since if ticket.paused_since is not None else now


def check(ticket, now: dt.datetime) -> bool:
    """Set the breach flags as of ``now``; returns True when a flag turned on."""
    at = _effective_now(ticket, now)
    changed = False
    response_at = ticket.first_response_at if ticket.first_response_at is not None else at
    if not ticket.response_breached and response_at > ticket.response_due_at:
        ticket.response_breached = changed = True
    if not ticket.resolution_breached and at > ticket.resolution_due_at:
        ticket.resolution_breached = changed = True
    return changed


@dataclass(frozen=True)
class Badge:
    """What a list shows for one clock: ``state`` is met, ok, due_soon, breached or paused;
    ``seconds`` is the time left (negative: overdue)."""

    state: str
    seconds: int


def badge(ticket, which: str, policy: SlaPolicy, now: dt.datetime) -> Badge:
    """The state of the ``response`` or ``resolution`` clock at ``now``."""
    due = ticket.response_due_at if which == "response" else ticket.resolution_due_at
    done_at = ticket.first_response_at if which == "response" else ticket.resolved_at
    breached = ticket.response_breached if which == "response" else ticket.resolution_breached
    if done_at is not None and (which == "response" or ticket.status in ("resolved", "closed")):
        return Badge("breached" if breached or done_at > due else "met", 0)
    at = _effective_now(ticket, now)
    left = int((due - at).total_seconds())
    if breached or left < 0:
        return Badge("breached", left)
    if ticket.paused_since is not None:
        return Badge("paused", left)
    target = policy.response(ticket.priority) if which == "response" else None
    target = target or policy.resolution(ticket.priority)
    if left < target.total_seconds() * DUE_SOON:
        return Badge("due_soon", left)
    return Badge("ok", left)
