"""SLA clocks and the ticket workflow as pure functions, on a frozen clock (no database)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from pyramid.exceptions import ConfigurationError

from plugins.hosting.tickets import sla
from plugins.hosting.tickets.workflow import TransitionRefused, check_transition

T0 = dt.datetime(2026, 12, 3, 8, 0)
H = dt.timedelta(hours=1)
POLICY = sla.SlaPolicy()


def ticket(priority="normal", status="open"):
    t = SimpleNamespace(priority=priority, status=status, resolved_at=None)
    sla.start(t, POLICY, T0)
    return t


def test_due_times_follow_the_priority_targets():
    urgent, low = ticket("urgent"), ticket("low")
    assert (urgent.response_due_at, urgent.resolution_due_at) == (T0 + H, T0 + 8 * H)
    assert (low.response_due_at, low.resolution_due_at) == (T0 + 24 * H, T0 + 120 * H)


def test_a_missed_response_is_flagged_once_and_stays():
    t = ticket("urgent")
    assert sla.check(t, T0 + 59 * dt.timedelta(minutes=1)) is False
    assert sla.check(t, T0 + H + dt.timedelta(seconds=1)) is True
    assert t.response_breached and not t.resolution_breached
    assert sla.check(t, T0 + 2 * H) is False  # already flagged: nothing new
    sla.responded(t, T0 + 3 * H)
    sla.check(t, T0 + 4 * H)
    assert t.response_breached  # a late answer does not undo the miss


def test_a_response_in_time_is_met():
    t = ticket("high")
    sla.responded(t, T0 + 3 * H)
    sla.check(t, T0 + 10 * H)  # long after the due time: the answer came in time
    assert not t.response_breached
    assert sla.badge(t, "response", POLICY, T0 + 10 * H).state == "met"


def test_waiting_on_the_customer_stops_the_clock_and_moves_the_due_time():
    t = ticket("urgent")  # resolution due T0 + 8 h
    sla.responded(t, T0 + dt.timedelta(minutes=10))
    sla.follow_status(t, "waiting_customer", T0 + 2 * H)
    t.status = "waiting_customer"
    # Ten hours waiting on the customer: no breach while paused, whatever the wall clock says.
    assert sla.check(t, T0 + 12 * H) is False
    assert sla.badge(t, "resolution", POLICY, T0 + 12 * H).state == "paused"
    sla.follow_status(t, "in_progress", T0 + 12 * H)
    t.status = "in_progress"
    assert t.paused_seconds == 10 * 3600
    assert t.paused_since is None
    assert t.resolution_due_at == T0 + 18 * H  # 8 h target + 10 h paused
    # 2 h used before the pause, 5 h 59 min after: still inside the 8 h target.
    assert sla.check(t, T0 + 17 * H + dt.timedelta(minutes=59)) is False
    assert sla.check(t, T0 + 18 * H + dt.timedelta(minutes=1)) is True
    assert t.resolution_breached


def test_two_pauses_add_up_and_the_response_moves_only_before_the_first_answer():
    t = ticket("normal")  # 8 h / 72 h
    sla.follow_status(t, "waiting_customer", T0 + H)
    sla.follow_status(t, "in_progress", T0 + 3 * H)  # 2 h paused, nobody answered yet
    assert t.response_due_at == T0 + 10 * H
    sla.responded(t, T0 + 4 * H)
    sla.follow_status(t, "waiting_customer", T0 + 5 * H)
    sla.follow_status(t, "in_progress", T0 + 8 * H)  # 3 h more
    assert t.paused_seconds == 5 * 3600
    assert t.response_due_at == T0 + 10 * H  # answered: the response clock is done
    assert t.resolution_due_at == T0 + 77 * H


def test_resolved_time_does_not_count_after_a_reopen():
    t = ticket("urgent")
    sla.responded(t, T0)
    sla.follow_status(t, "resolved", T0 + 2 * H)
    t.resolved_at = T0 + 2 * H
    assert sla.check(t, T0 + 50 * H) is False  # resolved in time, stays met
    assert sla.badge(t, "resolution", POLICY, T0 + 50 * H).state == "paused"
    sla.follow_status(t, "open", T0 + 50 * H)  # reopened two days later
    t.resolved_at = None
    assert t.resolution_due_at == T0 + 56 * H
    assert sla.check(t, T0 + 55 * H) is False
    assert sla.check(t, T0 + 57 * H) is True


def test_a_new_priority_recounts_from_the_opening_with_paused_time():
    t = ticket("low")
    sla.follow_status(t, "waiting_customer", T0 + H)
    sla.follow_status(t, "in_progress", T0 + 2 * H)
    t.priority = "urgent"
    sla.reprioritize(t, POLICY)
    assert t.response_due_at == T0 + 2 * H and t.resolution_due_at == T0 + 9 * H


def test_badges_warn_before_the_due_time():
    t = ticket("urgent")
    assert sla.badge(t, "response", POLICY, T0 + dt.timedelta(minutes=30)).state == "ok"
    soon = sla.badge(t, "response", POLICY, T0 + dt.timedelta(minutes=50))
    assert soon.state == "due_soon" and soon.seconds == 600
    late = sla.badge(t, "response", POLICY, T0 + 2 * H)
    assert late.state == "breached" and late.seconds == -3600


def test_targets_come_from_settings_and_bad_ones_stop_start_up():
    policy = sla.SlaPolicy.from_settings({"hosting.tickets.sla.urgent": "0.5 4"})
    assert policy.response("urgent") == dt.timedelta(minutes=30)
    assert policy.resolution("normal") == dt.timedelta(hours=72)
    for bad in ("fast", "4 1", "0 2", "1"):
        with pytest.raises(ConfigurationError):
            sla.SlaPolicy.from_settings({"hosting.tickets.sla.high": bad})


LEGAL = [
    ("open", "in_progress"),
    ("in_progress", "waiting_customer"),
    ("waiting_customer", "in_progress"),
    ("in_progress", "waiting_parts"),
    ("waiting_parts", "resolved"),
    ("resolved", "closed"),
    ("resolved", "open"),
    ("closed", "open"),
]
ILLEGAL = [
    ("closed", "resolved"),
    ("closed", "in_progress"),
    ("resolved", "waiting_parts"),
    ("waiting_customer", "open"),
    ("open", "open"),
]


@pytest.mark.parametrize(("current", "target"), LEGAL)
def test_staff_moves_along_the_workflow(current, target):
    check_transition(current, target, staff=True)


@pytest.mark.parametrize(("current", "target"), ILLEGAL)
def test_illegal_moves_are_refused_with_what_is_allowed(current, target):
    with pytest.raises(TransitionRefused) as refused:
        check_transition(current, target, staff=True)
    assert refused.value.status == 409
    assert current in str(refused.value)  # (the English text, values filled in)


def test_customers_may_only_reopen_or_close_a_resolved_ticket():
    check_transition("resolved", "open", staff=False)
    check_transition("resolved", "closed", staff=False)
    for current, target in (("open", "resolved"), ("open", "closed"), ("closed", "open")):
        with pytest.raises(TransitionRefused):
            check_transition(current, target, staff=False)
