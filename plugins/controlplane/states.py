"""The life of a remote command and of each miner in it, as pure state machines (no Pyramid,
no database). Every status change in the plugin goes through :func:`transition` /
:func:`target_transition`; the services apply the result with a conditional UPDATE.

Command::

    PENDING ──> PENDING_APPROVAL ──> APPROVED ──> DISPATCHED ──> COMPLETED
       └───── (low risk: no approval) ──^   │           └──────> FAILED
                                            └─ (changed after approval) ─> FAILED

    REJECTED   from PENDING or PENDING_APPROVAL (an approver said no)
    EXPIRED    from PENDING, PENDING_APPROVAL or APPROVED (nothing reached a miner in time)
    CANCELLED  from any state that is not final

Per miner (one row per target miner)::

    pending ──> dispatched ──> completed | failed | skipped | rejected
       ├──> expired    (never fetched in time)
       ├──> failed     (refused at dispatch: the command changed after approval)
       └──> cancelled  (also from dispatched, when staff call it back before the device acks)

The command finishes when every miner has: COMPLETED when each one completed or was skipped,
FAILED otherwise. Final states have no way out, so a finished record never changes again.
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
    S.APPROVED: frozenset({S.DISPATCHED, S.EXPIRED, S.FAILED, S.CANCELLED}),
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
# The states in which a device may fetch the command's miners.
DISPATCHABLE: frozenset[CommandStatus] = frozenset({S.APPROVED, S.DISPATCHED})


class TargetStatus(StrEnum):
    PENDING = "pending"
    DISPATCHED = "dispatched"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


T = TargetStatus

TARGET_TRANSITIONS: dict[TargetStatus, frozenset[TargetStatus]] = {
    T.PENDING: frozenset({T.DISPATCHED, T.EXPIRED, T.FAILED, T.CANCELLED}),
    T.DISPATCHED: frozenset({T.COMPLETED, T.FAILED, T.SKIPPED, T.REJECTED, T.CANCELLED}),
    T.COMPLETED: frozenset(),
    T.FAILED: frozenset(),
    T.SKIPPED: frozenset(),
    T.REJECTED: frozenset(),
    T.EXPIRED: frozenset(),
    T.CANCELLED: frozenset(),
}
TARGET_TERMINAL: frozenset[TargetStatus] = frozenset(
    s for s, exits in TARGET_TRANSITIONS.items() if not exits
)
# What a device may report for a miner (``duplicate`` from our collector changes nothing).
ACK_STATUSES: frozenset[TargetStatus] = frozenset({T.COMPLETED, T.FAILED, T.SKIPPED, T.REJECTED})
TARGET_SUCCESS: frozenset[TargetStatus] = frozenset({T.COMPLETED, T.SKIPPED})


class IllegalTransition(ValueError):
    """A move the state machine does not allow (including any move out of a final state)."""

    def __init__(self, current: str, target: str, what: str = "a command"):
        self.current = current
        self.target = target
        if not (TRANSITIONS.get(current) or TARGET_TRANSITIONS.get(current)):
            message = f"{what} that is already {current} cannot change any more"
        else:
            message = f"{what} cannot go from {current} to {target}"
        super().__init__(message)


def status(value: CommandStatus | str) -> CommandStatus:
    """``value`` as a :class:`CommandStatus`; ``ValueError`` naming it if it is not one."""
    try:
        return CommandStatus(value)
    except ValueError:
        raise ValueError(f"'{value}' is not a command status") from None


def target_status(value: TargetStatus | str) -> TargetStatus:
    try:
        return TargetStatus(value)
    except ValueError:
        raise ValueError(f"'{value}' is not a miner status of a command") from None


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


def target_transition(current: TargetStatus | str, target: TargetStatus | str) -> TargetStatus:
    """The same for one miner of a command."""
    current, target = target_status(current), target_status(target)
    if target not in TARGET_TRANSITIONS[current]:
        raise IllegalTransition(current, target, "a miner of a command")
    return target


def finished_status(targets: list[TargetStatus | str]) -> CommandStatus | None:
    """What a dispatched command becomes once every miner is final, else None."""
    statuses = [target_status(t) for t in targets]
    if not statuses or any(s not in TARGET_TERMINAL for s in statuses):
        return None
    if all(s in TARGET_SUCCESS for s in statuses):
        return S.COMPLETED
    return S.FAILED
