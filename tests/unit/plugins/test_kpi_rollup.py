"""The KPI rollup's pure parts: which days an event change marks, how ranges join."""

from __future__ import annotations

import datetime as dt

from plugins.hosting.kpi.rollup import event_days
from plugins.hosting.kpi.source import merge_ranges

NOW = dt.datetime(2026, 12, 3, 12, 7, 31)  # a frozen clock


def at(*args) -> dt.datetime:
    return dt.datetime(*args)


def test_event_days_are_the_days_of_its_buckets_up_to_today():
    # 23:58 -> 00:02 excuses the 23:55 and 00:00 buckets: two days.
    assert event_days(at(2026, 11, 30, 23, 58), at(2026, 12, 1, 0, 2), NOW) == [
        dt.date(2026, 11, 30),
        dt.date(2026, 12, 1),
    ]
    # Ending exactly at midnight touches no bucket of the next day.
    assert event_days(at(2026, 11, 30, 10), at(2026, 12, 1), NOW) == [dt.date(2026, 11, 30)]
    # Still going on: up to today, never days not rolled yet.
    assert event_days(at(2026, 12, 2, 8), None, NOW) == [dt.date(2026, 12, 2), dt.date(2026, 12, 3)]
    # Entirely in the future: nothing rolled to recompute.
    assert event_days(at(2026, 12, 5), at(2026, 12, 6), NOW) == []


def test_merge_ranges_joins_touching_ranges_and_drops_empty_ones():
    a, b, c, d = (at(2026, 12, 1, h) for h in (0, 4, 8, 12))
    assert merge_ranges([(c, d), (a, b), (b, c), (d, d)]) == [(a, d)]
    assert merge_ranges([(c, d), (a, b)]) == [(a, b), (c, d)]
