"""The ticket workflow, in one place: which status may follow which, and for whom.

::

    open ──> in_progress ──> waiting_customer ──┐
      │          │  ^   ──> waiting_parts    ───┤
      │          │  └──────────(back to work)───┤
      └──────────┴──────────────────────────────┴──> resolved ──> closed
                                                        │            │
    open <──────────────── reopen ──────────────────────┴────────────┘

Staff (accounts that manage tickets) may make any move above; a customer may only reopen or
close its own *resolved* ticket (a customer's reply to a ticket waiting on it moves it back to
in_progress by itself, see services).
"""

from __future__ import annotations

from pyramid.i18n import TranslationStringFactory

from hashinsight_core.exceptions import DomainError

_ = TranslationStringFactory("hashinsight")

TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"in_progress", "waiting_customer", "waiting_parts", "resolved", "closed"}),
    "in_progress": frozenset({"open", "waiting_customer", "waiting_parts", "resolved", "closed"}),
    "waiting_customer": frozenset({"in_progress", "waiting_parts", "resolved", "closed"}),
    "waiting_parts": frozenset({"in_progress", "waiting_customer", "resolved", "closed"}),
    "resolved": frozenset({"open", "closed"}),
    "closed": frozenset({"open"}),
}
CUSTOMER_TRANSITIONS: dict[str, frozenset[str]] = {"resolved": frozenset({"open", "closed"})}


class TransitionRefused(DomainError):
    status = 409
    code = "illegal_transition"


def check_transition(current: str, target: str, *, staff: bool) -> None:
    """Raise :class:`TransitionRefused` (409, with what is allowed) unless ``current`` may
    become ``target`` for this kind of account."""
    table = TRANSITIONS if staff else CUSTOMER_TRANSITIONS
    if target == current:
        raise TransitionRefused(
            _("the ticket is already ${status}", mapping={"status": current}), "status"
        )
    allowed = table.get(current, frozenset())
    if target not in allowed:
        shown = ", ".join(sorted(allowed)) or "none"
        message = _(
            "a ticket cannot go from ${current} to ${target} (allowed: ${allowed})",
            mapping={"current": current, "target": target, "allowed": shown},
        )
        raise TransitionRefused(message, "status")
