"""The market service on a real database (SQLite and PostgreSQL): refresh and store, the
stale-while-revalidate read, overrides that win and expire, offline and empty states."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
import sqlalchemy as sa

from hashinsight_core import market
from hashinsight_core.exceptions import InvalidInput
from hashinsight_core.market import figures, service
from hashinsight_core.market.models import MarketLatest
from hashinsight_core.market.service import MarketConfig
from hashinsight_core.tasks import run_in_request
from tests.fixtures.market.recorded import RECORDED_AT, Recorded

NOW = RECORDED_AT + dt.timedelta(seconds=30)


def recorded(**kwargs) -> httpx.MockTransport:
    return httpx.MockTransport(Recorded(**kwargs))


def refreshed(dbsession, config=None, now=NOW, **kwargs):
    result = service.refresh(
        dbsession, config or MarketConfig(), now=now, transport=recorded(**kwargs)
    )
    dbsession.flush()
    return result


# --- figures -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("height", "subsidy"),
    [
        (0, 50),
        (209_999, 50),
        (210_000, 25),
        (839_999, 6.25),
        (840_000, 3.125),
        (1_049_999, 3.125),
        (1_050_000, 1.5625),
        (6_929_999, 1e-8),
        (6_930_000, 0.0),
    ],
)
def test_subsidy_follows_the_halvings(height, subsidy):
    assert figures.subsidy_btc(height) == subsidy


def test_hashprice_worked_example():
    # elektronics.dev: D = 1e14, reward 3.125 BTC, $100,000 -> $62.86 per PH/day:
    # 1e12 * 86,400 * 3.125 / (1e14 * 2^32) = 6.2864e-7 BTC/TH/day; * 100,000 = $0.062864/TH/day
    value = figures.hashprice_usd_th_day(100_000, 1e14, 900_000, 0.0)
    assert value == pytest.approx(0.0628642737865, rel=1e-9)


# --- refresh and read ---------------------------------------------------------------------


def test_refresh_stores_every_figure_with_its_source(dbsession):
    result = refreshed(dbsession, MarketConfig(providers=_with_coinwarz()))
    assert result.failed == {}
    snapshot = market.current(dbsession, now=NOW + dt.timedelta(seconds=10))
    assert not snapshot.empty and not snapshot.stale
    assert snapshot.price_usd.value == 91244.3
    assert snapshot.price_usd.source == "median(binance,okx,deribit)"
    assert snapshot.difficulty.source == "mempool"
    assert snapshot.block_height.value == 925001
    assert snapshot.fees_per_block_btc.value == pytest.approx(24.12345678 / 144)
    assert snapshot.next_adjustment_time.value == 1764794940
    # Hashprice from the stored figures, with the configured 144-block fee window:
    # reward = subsidy(925,002) 3.125 + fees 0.167524005 = 3.292524005 BTC
    # 1e12 * 86,400 * 3.292524005 / (149,301,205,959,699.9 * 2^32) = 4.43629e-7 BTC/TH/day
    # * 91,244.3 USD = 0.0404786 USD/TH/day
    hashprice = snapshot.hashprice_usd_th_day
    assert hashprice.value == pytest.approx(0.0404785791, rel=1e-8)
    assert hashprice.source == "computed"


def _with_coinwarz():
    from hashinsight_core.market.providers import ProviderConfig

    return ProviderConfig(coinwarz_api_key="k")


def test_values_turn_stale_after_their_ttl_and_say_how_old(dbsession):
    refreshed(dbsession)
    config = MarketConfig()
    stored = dbsession.get(MarketLatest, "price_usd").as_of
    ttl = config.ttl_s["price_usd"]
    fresh = service.read_snapshot(dbsession, config, stored + dt.timedelta(seconds=ttl))
    assert not fresh.price_usd.stale
    later = service.read_snapshot(dbsession, config, stored + dt.timedelta(seconds=ttl + 1))
    assert later.price_usd.stale and later.price_usd.age_s == ttl + 1
    assert later.price_usd.value == 91244.3  # the stale value is still served
    assert later.hashprice_usd_th_day.stale  # computed from a stale input


def test_a_failed_refresh_keeps_the_last_value_and_notes_the_error(dbsession):
    refreshed(dbsession)
    everything = {
        p: "timeout"
        for p in (
            "binance",
            "okx",
            "deribit",
            "coingecko",
            "mempool",
            "blockchain_info",
            "blockchain_q",
            "coinwarz",
        )
    }
    later = NOW + dt.timedelta(hours=2)
    result = refreshed(dbsession, now=later, fail=everything)
    assert result.stored == {}
    snapshot = service.read_snapshot(dbsession, MarketConfig(), later)
    assert snapshot.difficulty.value == 149301205959699.9
    assert snapshot.difficulty.stale and snapshot.difficulty.age_s >= 7200
    assert "mempool: timeout" in snapshot.difficulty.error


def test_only_stale_refresh_asks_only_for_stale_figures(dbsession):
    refreshed(dbsession)
    handler = Recorded()
    # Ten minutes on, only the price (TTL 5 min) and the height (TTL 15 min... not yet) are due.
    at = NOW + dt.timedelta(minutes=10)
    result = service.refresh(
        dbsession, MarketConfig(), only_stale=True, now=at, transport=httpx.MockTransport(handler)
    )
    assert set(result.stored) == {"price_usd"}
    assert handler.asked("mempool.space") == 0 and handler.asked("binance") == 1


def test_nothing_stored_is_a_clear_empty_state(dbsession):
    snapshot = market.current(dbsession, now=NOW)
    assert snapshot.empty
    assert snapshot.price_usd.value is None and snapshot.price_usd.source is None
    assert snapshot.hashprice_usd_th_day.value is None


def test_offline_mode_asks_no_provider(dbsession):
    handler = Recorded()
    config = MarketConfig(offline=True)
    result = service.refresh(dbsession, config, now=NOW, transport=httpx.MockTransport(handler))
    assert result.offline and handler.calls == []
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(MarketLatest)) == 0


# --- overrides -----------------------------------------------------------------------------


def test_an_override_wins_until_it_expires(dbsession):
    refreshed(dbsession)
    service.set_override(
        dbsession, "price_usd", 95_000, "exchange outage", NOW + dt.timedelta(hours=1), now=NOW
    )
    during = market.current(dbsession, now=NOW + dt.timedelta(minutes=59))
    assert during.price_usd.value == 95_000 and during.price_usd.overridden
    assert during.price_usd.source == "override" and during.price_usd.note == "exchange outage"
    assert not during.price_usd.stale  # an admin's value is never "stale"
    # The hashprice follows the overridden price: 4.43629e-7 BTC/TH/day * 95,000
    assert during.hashprice_usd_th_day.value == pytest.approx(4.4362857849902e-07 * 95_000)
    after = market.current(dbsession, now=NOW + dt.timedelta(minutes=61))
    assert after.price_usd.value == 91244.3 and not after.price_usd.overridden


def test_clearing_an_override_brings_the_providers_back(dbsession):
    refreshed(dbsession)
    service.set_override(dbsession, "difficulty", 1.2e14, now=NOW)
    assert market.current(dbsession, now=NOW).difficulty.value == 1.2e14
    assert service.clear_override(dbsession, "difficulty") is True
    assert service.clear_override(dbsession, "difficulty") is False
    assert market.current(dbsession, now=NOW).difficulty.value == 149301205959699.9


def test_an_override_works_with_nothing_fetched_at_all(dbsession):
    service.set_override(dbsession, "price_usd", 90_000, now=NOW)
    snapshot = market.current(dbsession, now=NOW)
    assert not snapshot.empty and snapshot.price_usd.value == 90_000
    assert snapshot.hashprice_usd_th_day.value is None  # no difficulty or height yet


@pytest.mark.parametrize(
    ("name", "value", "note", "expires", "field"),
    [
        ("gold_price", 1, "", None, "figure"),
        ("price_usd", -1, "", None, "value"),
        ("price_usd", float("nan"), "", None, "value"),
        ("block_height", 925000.5, "", None, "value"),
        ("price_usd", 90000, "x" * 501, None, "note"),
        ("price_usd", 90000, "", NOW - dt.timedelta(seconds=1), "expires_at"),
    ],
)
def test_bad_overrides_are_refused_and_nothing_is_stored(
    dbsession, name, value, note, expires, field
):
    with pytest.raises(InvalidInput) as caught:
        service.set_override(dbsession, name, value, note, expires, now=NOW)
    assert caught.value.field == field
    assert service.active_overrides(dbsession, NOW) == []


# --- stale-while-revalidate through a request ------------------------------------------------


@pytest.fixture
def fresh_registry(make_app):
    from tests.fixtures.market.recorded import fresh_transport

    _, registry = make_app(plugins=[], market__transport=fresh_transport())
    return registry


def test_a_stale_read_answers_at_once_and_queues_a_refresh(fresh_registry, dbsession):
    old = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=3)
    dbsession.add(
        MarketLatest(figure="price_usd", value=80_000.0, source="okx", as_of=old, fetched_at=old)
    )
    dbsession.commit_now()
    snapshot = run_in_request(fresh_registry, market.current)
    # The page got the stale value, flagged, without waiting for any provider...
    assert snapshot.price_usd.value == 80_000 and snapshot.price_usd.stale
    assert snapshot.price_usd.age_s >= 3 * 3600
    assert snapshot.refresh_queued
    # ...and the refresh ran after that request committed (huey is immediate in tests).
    dbsession.expire_all()
    row = dbsession.get(MarketLatest, "price_usd")
    assert (row.value, row.source) == (91244.3, "median(binance,okx,deribit)")
    after = run_in_request(fresh_registry, market.current)
    assert not after.price_usd.stale and not after.refresh_queued


def test_stale_reads_queue_at_most_one_refresh_a_minute(make_app, dbsession):
    handler = Recorded(
        fail={
            p: "timeout"
            for p in ("binance", "okx", "deribit", "coingecko", "mempool", "blockchain_info")
        }
    )
    _, registry = make_app(plugins=[], market__transport=httpx.MockTransport(handler))
    first = run_in_request(registry, market.current)
    assert first.empty and first.refresh_queued
    asked = len(handler.calls)
    assert asked > 0
    second = run_in_request(registry, market.current)
    assert not second.refresh_queued and len(handler.calls) == asked


def test_a_figure_that_just_failed_does_not_queue_again(make_app, dbsession):
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    old = now - dt.timedelta(hours=3)
    for name in figures.FETCHED:
        dbsession.add(
            MarketLatest(
                figure=name,
                value=figures.FIGURES[name].minimum + 1.5e9,
                source="mempool",
                as_of=old,
                fetched_at=old,
                last_error="mempool: timeout",
                error_at=now,
            )
        )
    dbsession.commit_now()
    handler = Recorded()
    _, registry = make_app(plugins=[], market__transport=httpx.MockTransport(handler))
    snapshot = run_in_request(registry, market.current)
    assert snapshot.stale and not snapshot.refresh_queued and handler.calls == []


def test_offline_setting_never_queues(make_app, dbsession):
    handler = Recorded()
    _, registry = make_app(
        plugins=[], market__offline="true", market__transport=httpx.MockTransport(handler)
    )
    snapshot = run_in_request(registry, market.current)
    assert snapshot.empty and not snapshot.refresh_queued and handler.calls == []


def test_the_periodic_task_refreshes_every_figure(fresh_registry, dbsession):
    fresh_registry["periodic_tasks"]["core.market_refresh"].call_local()
    stored = set(dbsession.scalars(sa.select(MarketLatest.figure)))
    assert stored == set(figures.FETCHED)


# --- settings ------------------------------------------------------------------------------


def test_settings_choose_orders_windows_and_ttls():
    config = MarketConfig.from_settings(
        {
            "market.order.difficulty": "blockchain_info mempool",
            "market.fee_window": "2016",
            "market.ttl.price_usd": "60",
            "market.price.median_of": "1",
        }
    )
    assert config.orders["difficulty"] == ["blockchain_info", "mempool"]
    assert config.fee_window == 2016 and config.ttl_s["price_usd"] == 60
    assert config.price_median_of == 1


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"market.order.price_usd": "binance kraken"}, "unknown provider 'kraken'"),
        ({"market.order.next_adjustment_pct": "binance"}, "'binance' does not give"),
        ({"market.fee_window": "100"}, "use one of 144, 1008, 2016"),
        ({"market.ttl.price_usd": "soon"}, "not a whole number"),
    ],
)
def test_bad_settings_stop_start_up_with_one_line(settings, message):
    from pyramid.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match=message):
        MarketConfig.from_settings(settings)
