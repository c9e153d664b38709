"""The KPI engine's pure parts: periods, excused buckets, interval arithmetic, derived figures."""

from __future__ import annotations

import datetime as dt

import pytest

from hashinsight_core.exceptions import InvalidInput
from plugins.hosting.kpi.engine import (
    FAR_FUTURE,
    Totals,
    event_buckets,
    merge,
    miner_window_start,
    overlap_buckets,
)
from plugins.hosting.kpi.period import Period, parse_period

NOW = dt.datetime(2026, 12, 3, 12, 7, 31)  # a frozen clock


def at(*args) -> dt.datetime:
    return dt.datetime(*args)


def test_presets_end_at_the_last_finished_interval():
    week = parse_period({}, NOW)
    assert (week.preset, week.end) == ("7d", at(2026, 12, 3, 12, 5))
    assert week.start == at(2026, 11, 26, 12, 5)
    day = parse_period({"period": "24h"}, NOW)
    assert day.buckets == 288 and day.hours == 24


def test_custom_dates_count_the_end_day_in_full_and_stop_at_now():
    period = parse_period({"period": "custom", "from": "2026-11-01", "to": "2026-11-02"}, NOW)
    assert (period.start, period.end) == (at(2026, 11, 1), at(2026, 11, 3))
    assert period.days() == [dt.date(2026, 11, 1), dt.date(2026, 11, 2)]
    # Times are rounded down to 5 minutes; time zones are turned into UTC.
    period = parse_period({"from": "2026-12-01T08:07:00+02:00", "to": "2026-12-01T09:00Z"}, NOW)
    assert (period.start, period.end) == (at(2026, 12, 1, 6, 5), at(2026, 12, 1, 9, 0))
    # A period reaching into the future ends now (no future interval counts as downtime).
    period = parse_period({"from": "2026-12-03", "to": "2026-12-10"}, NOW)
    assert period.end == at(2026, 12, 3, 12, 5)
    # Without "to": up to now.
    assert parse_period({"from": "2026-12-02"}, NOW).end == at(2026, 12, 3, 12, 5)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "1y"}, "period"),
        ({"period": "custom"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-11-02", "to": "2026-02-30"}, "to"),
        ({"from": "2026-11-02", "to": "2026-11-01"}, "from"),
        ({"from": "2026-12-04"}, "from"),  # starts after now
        ({"from": "2020-01-01", "to": "2026-01-01"}, "to"),
    ],
)
def test_bad_periods_name_the_parameter(params, field):
    with pytest.raises(InvalidInput) as caught:
        parse_period(params, NOW)
    assert caught.value.field == field


def test_day_buckets_split_a_period_over_utc_days():
    period = Period(at(2026, 11, 30, 23, 30), at(2026, 12, 1, 0, 30))
    assert [period.day_buckets(d) for d in period.days()] == [6, 6]


def test_an_event_excuses_every_interval_it_touches():
    assert event_buckets(at(2026, 1, 1, 10, 2), at(2026, 1, 1, 10, 7)) == (
        at(2026, 1, 1, 10, 0),
        at(2026, 1, 1, 10, 10),
    )
    assert event_buckets(at(2026, 1, 1, 10, 0), at(2026, 1, 1, 10, 5)) == (
        at(2026, 1, 1, 10, 0),
        at(2026, 1, 1, 10, 5),
    )
    assert event_buckets(at(2026, 1, 1, 10, 0), None)[1] == FAR_FUTURE


def test_overlapping_events_are_counted_once():
    merged = merge(
        [
            (at(2026, 1, 1, 10, 0), at(2026, 1, 1, 10, 30)),
            (at(2026, 1, 1, 10, 15), at(2026, 1, 1, 11, 0)),
            (at(2026, 1, 1, 12, 0), at(2026, 1, 1, 12, 10)),
        ]
    )
    assert merged == [
        (at(2026, 1, 1, 10, 0), at(2026, 1, 1, 11, 0)),
        (at(2026, 1, 1, 12, 0), at(2026, 1, 1, 12, 10)),
    ]
    # 10:30-11:00 (6) + 12:00-12:10 (2) inside [10:30, 13:00)
    assert overlap_buckets(merged, at(2026, 1, 1, 10, 30), at(2026, 1, 1, 13, 0)) == 8


def test_a_miner_is_expected_from_the_first_interval_after_it_was_added():
    period = Period(at(2026, 12, 1), at(2026, 12, 2))
    assert miner_window_start(period, at(2026, 11, 1)) == period.start
    assert miner_window_start(period, at(2026, 12, 1, 0, 2)) == at(2026, 12, 1, 0, 5)
    assert miner_window_start(period, at(2026, 12, 1, 0, 5)) == at(2026, 12, 1, 0, 5)


def test_figures_are_none_when_there_is_nothing_to_divide_by():
    empty = Totals().figures(12)
    assert empty["reachable_uptime"] is None and empty["j_per_th"] is None
    assert empty["capacity_basis"] == "nameplate" and empty["energy_ratio"] is None
    # Everything excused: uptime is defined, uptime excluding excused is not.
    all_excused = Totals(expected=12, excused=12, reachable=3, reachable_excused=3)
    figures = all_excused.figures(12, capacity_kw=5.0)
    assert figures["reachable_uptime"] == pytest.approx(0.25)
    assert figures["reachable_uptime_excl"] is None
    assert figures["capacity_kwh"] == pytest.approx(5.0)
