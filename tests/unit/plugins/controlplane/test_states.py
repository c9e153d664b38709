"""The command state machine, checked over every pair of states."""

import itertools

import pytest

from plugins.controlplane.states import (
    ACK_STATUSES,
    ACTIVE,
    EXPIRABLE,
    TERMINAL,
    CommandStatus,
    IllegalTransition,
    TargetStatus,
    can_transition,
    finished_status,
    is_terminal,
    target_transition,
    transition,
)

S = CommandStatus

# Written out by hand from the design (not read from the module), so a change to the module's
# table has to be made twice to pass.
LEGAL = {
    (S.PENDING, S.PENDING_APPROVAL),
    (S.PENDING, S.APPROVED),
    (S.PENDING, S.REJECTED),
    (S.PENDING, S.EXPIRED),
    (S.PENDING, S.CANCELLED),
    (S.PENDING_APPROVAL, S.APPROVED),
    (S.PENDING_APPROVAL, S.REJECTED),
    (S.PENDING_APPROVAL, S.EXPIRED),
    (S.PENDING_APPROVAL, S.CANCELLED),
    (S.APPROVED, S.DISPATCHED),
    (S.APPROVED, S.EXPIRED),
    (S.APPROVED, S.FAILED),  # refused at dispatch: changed after approval
    (S.APPROVED, S.CANCELLED),
    (S.DISPATCHED, S.COMPLETED),
    (S.DISPATCHED, S.FAILED),
    (S.DISPATCHED, S.CANCELLED),
}
FINAL = {S.COMPLETED, S.REJECTED, S.EXPIRED, S.FAILED, S.CANCELLED}
ALL_PAIRS = list(itertools.product(CommandStatus, CommandStatus))


def test_there_are_nine_states():
    assert {s.value for s in CommandStatus} == {
        "PENDING",
        "PENDING_APPROVAL",
        "APPROVED",
        "DISPATCHED",
        "COMPLETED",
        "REJECTED",
        "EXPIRED",
        "FAILED",
        "CANCELLED",
    }
    assert len(ALL_PAIRS) == 81


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS, ids=lambda s: s.value)
def test_every_pair_is_allowed_exactly_when_the_design_says(current, target):
    if (current, target) in LEGAL:
        assert transition(current, target) is target
        assert can_transition(current, target)
    else:
        with pytest.raises(IllegalTransition) as caught:
            transition(current, target)
        assert caught.value.current == current and caught.value.target == target
        assert not can_transition(current, target)


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS, ids=lambda s: s.value)
def test_plain_strings_work_like_the_enum(current, target):
    if (current, target) in LEGAL:
        assert transition(current.value, target.value) == target.value
    else:
        with pytest.raises(IllegalTransition):
            transition(current.value, target.value)


@pytest.mark.parametrize("state", sorted(FINAL))
def test_final_states_have_no_exit_and_say_so(state):
    assert is_terminal(state)
    for target in CommandStatus:
        with pytest.raises(IllegalTransition, match="cannot change any more"):
            transition(state, target)


def test_no_state_moves_to_itself():
    for state in CommandStatus:
        with pytest.raises(IllegalTransition):
            transition(state, state)


def test_the_sets_of_states_match_the_design():
    assert TERMINAL == FINAL
    assert ACTIVE == set(CommandStatus) - FINAL
    assert EXPIRABLE == {S.PENDING, S.PENDING_APPROVAL, S.APPROVED}
    # Every state that is not final can be cancelled (the cancel API relies on it).
    assert all(can_transition(s, S.CANCELLED) for s in ACTIVE)


def test_every_state_is_reachable_from_pending_and_every_path_can_finish():
    reachable, frontier = {S.PENDING}, [S.PENDING]
    while frontier:
        state = frontier.pop()
        for target in CommandStatus:
            if can_transition(state, target) and target not in reachable:
                reachable.add(target)
                frontier.append(target)
    assert reachable == set(CommandStatus)
    for state in ACTIVE:
        assert any(can_transition(state, final) for final in FINAL)


def test_unknown_status_names_are_rejected_with_a_message():
    with pytest.raises(ValueError, match="'DONE' is not a command status"):
        transition("DONE", S.PENDING)
    with pytest.raises(ValueError, match="'pending' is not a command status"):
        transition(S.PENDING, "pending")


def test_the_error_message_names_both_states():
    with pytest.raises(IllegalTransition, match="from APPROVED to COMPLETED"):
        transition(S.APPROVED, S.COMPLETED)


def test_the_module_imports_nothing_from_the_web_or_the_database():
    import ast

    import plugins.controlplane.states as states

    tree = ast.parse(open(states.__file__).read())
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"__future__", "enum"}


# --- per-miner sub-states -------------------------------------------------------------------

T = TargetStatus
TARGET_LEGAL = {
    (T.PENDING, T.DISPATCHED),
    (T.PENDING, T.EXPIRED),
    (T.PENDING, T.FAILED),
    (T.PENDING, T.CANCELLED),
    (T.DISPATCHED, T.COMPLETED),
    (T.DISPATCHED, T.FAILED),
    (T.DISPATCHED, T.SKIPPED),
    (T.DISPATCHED, T.REJECTED),
    (T.DISPATCHED, T.CANCELLED),
}


@pytest.mark.parametrize(
    ("current", "target"), list(itertools.product(TargetStatus, TargetStatus)), ids=str
)
def test_every_miner_move_is_allowed_exactly_when_the_design_says(current, target):
    if (current, target) in TARGET_LEGAL:
        assert target_transition(current, target) is target
    else:
        with pytest.raises(IllegalTransition):
            target_transition(current, target)


def test_a_miner_can_only_be_acknowledged_after_it_was_handed_out():
    # (pending -> failed exists: the server refuses a command that changed after approval)
    for status in ACK_STATUSES - {T.FAILED}:
        with pytest.raises(IllegalTransition, match="from pending"):
            target_transition(T.PENDING, status)


@pytest.mark.parametrize(
    ("miners", "expected"),
    [
        ([], None),
        (["completed", "dispatched"], None),
        (["completed", "pending"], None),
        (["completed", "completed"], S.COMPLETED),
        (["completed", "skipped"], S.COMPLETED),
        (["completed", "failed"], S.FAILED),
        (["rejected"], S.FAILED),
        (["expired", "completed"], S.FAILED),
    ],
)
def test_a_command_finishes_when_every_miner_has(miners, expected):
    assert finished_status(miners) == expected
