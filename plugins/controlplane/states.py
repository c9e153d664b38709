"""The life of a remote command, as a pure state machine (no Pyramid, no database).

::

    PENDING ──> PENDING_APPROVAL ──> APPROVED ──> DISPATCHED ──> COMPLETED
       └───── (no approval needed) ─────^              └───────> FAILED

    REJECTED   from PENDING or PENDING_APPROVAL
    EXPIRED    from PENDING, PENDING_APPROVAL or APPROVED (not yet sent to a miner)
    CANCELLED  from any state that is not final

A command that needs nobody's approval goes straight from PENDING to APPROVED. Only commands
that have not reached a miner yet can expire; a dispatched one ends COMPLETED or FAILED (or
CANCELLED, when staff call it back before the edge device runs it). The five final states have
no way out, so a finished command's record never changes again.
"""

from __future__ import annotations

from enum import StrEnum


class CommandStatus(StrEnum):
    PENDING = "PENDING"
    PENDING_APPROVAL = "PENDING_APPROVAL"
    APPROVED = "APPROVED"
    DISPATCHED = "DISPATCHED"
    COMPLETED = "COMPLETED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


S = CommandStatus

# Every legal move. No state lists itself: "moving" to the state a command is already in is a
# mistake (two people acting on one command at once) that the caller should hear about.
TRANSITIONS: dict[CommandStatus, frozenset[CommandStatus]] = {
    S.PENDING: frozenset({S.PENDING_APPROVAL, S.APPROVED, S.REJECTED, S.EXPIRED, S.CANCELLED}),
    S.PENDING_APPROVAL: frozenset({S.APPROVED, S.REJECTED, S.EXPIRED, S.CANCELLED}),
    S.APPROVED: frozenset({S.DISPATCHED, S.EXPIRED, S.CANCELLED}),
    S.DISPATCHED: frozenset({S.COMPLETED, S.FAILED, S.CANCELLED}),
    S.COMPLETED: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
}

TERMINAL: frozenset[CommandStatus] = frozenset(s for s, exits in TRANSITIONS.items() if not exits)
ACTIVE: frozenset[CommandStatus] = frozenset(CommandStatus) - TERMINAL
# The states the expiry job looks at: the command has not been handed to a device yet.
EXPIRABLE: frozenset[CommandStatus] = frozenset(s for s in ACTIVE if S.EXPIRED in TRANSITIONS[s])


class IllegalTransition(ValueError):
    """A move the state machine does not allow (including any move out of a final state)."""

    def __init__(self, current: CommandStatus | str, target: CommandStatus | str):
        self.current = current
        self.target = target
        if current in TERMINAL:
            message = f"the command is already {current} and cannot change any more"
        else:
            message = f"a command cannot go from {current} to {target}"
        super().__init__(message)


def status(value: CommandStatus | str) -> CommandStatus:
    """``value`` as a :class:`CommandStatus`; ``ValueError`` naming it if it is not one."""
    try:
        return CommandStatus(value)
    except ValueError:
        raise ValueError(f"'{value}' is not a command status") from None


def is_terminal(value: CommandStatus | str) -> bool:
    return status(value) in TERMINAL


def can_transition(current: CommandStatus | str, target: CommandStatus | str) -> bool:
    return status(target) in TRANSITIONS[status(current)]


def transition(current: CommandStatus | str, target: CommandStatus | str) -> CommandStatus:
    """Return ``target`` if a command in ``current`` may move there; raise otherwise.

    Raises :class:`IllegalTransition` for a move the machine forbids and ``ValueError`` for a
    name that is not a status at all.
    """
    current, target = status(current), status(target)
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(current, target)
    return target
