"""Market providers on recorded answers: every parser, every failure mode, the fallback walk.

No test here touches the network: ``tests/fixtures/market/recorded.py`` replays the bodies
through an httpx MockTransport and fails providers on demand.
"""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hashinsight_core.market import figures, providers
from hashinsight_core.market.providers import Fetcher, ProviderConfig, ProviderError
from hashinsight_core.market.service import MarketConfig, fetch
from tests.fixtures.market.recorded import RECORDED_AT, Recorded, load

NOW = RECORDED_AT + dt.timedelta(seconds=30)


def fetcher(handler: Recorded | None = None, config: ProviderConfig | None = None) -> Fetcher:
    config = config or ProviderConfig(coinwarz_api_key="test-key")
    client = providers.make_client(config, httpx.MockTransport(handler or Recorded()))
    return Fetcher(client, config, now=lambda: NOW)


def value(provider: str, name: str, handler: Recorded | None = None) -> float:
    return providers.quote(fetcher(handler), provider, name).value


# --- every parser on its recorded body -----------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "name", "expected"),
    [
        (providers.COINGECKO, "price_usd", 91265.12),
        (providers.BINANCE, "price_usd", 91250.01),  # "91250.01000000", a string
        (providers.OKX, "price_usd", 91244.3),
        (providers.DERIBIT, "price_usd", 91238.77),
        (providers.MEMPOOL, "price_usd", 91210.0),
        (providers.BLOCKCHAIN_INFO, "price_usd", 91231.45),
        (providers.MEMPOOL, "difficulty", 149301205959699.9),
        (providers.BLOCKCHAIN_INFO, "difficulty", 149301205959699.9),
        (providers.COINWARZ, "difficulty", 149301205959699.9),
        (providers.MEMPOOL, "block_height", 925001),
        (providers.BLOCKCHAIN_INFO, "block_height", 925000),
        (providers.COINWARZ, "block_height", 925000),
        # 1.0731234567890123e21 H/s / 1e18 = 1073.12... EH/s
        (providers.MEMPOOL, "hashrate_ehs", 1073.1234567890123),
        # blockchain.info gives GH/s: 1,068,412,345,678.9 GH/s / 1e9 = 1068.41... EH/s
        (providers.BLOCKCHAIN_INFO, "hashrate_ehs", 1068.4123456789),
        # 2,412,345,678 sat over blocks 924,858..925,001 (144 blocks) = 24.12345678 / 144 BTC
        (providers.MEMPOOL, "fees_btc_144", 24.12345678 / 144),
        # 15,961,234,567 sat over 923,994..925,001 (1008 blocks)
        (providers.MEMPOOL, "fees_btc_1008", 159.61234567 / 1008),
        (providers.MEMPOOL, "fees_btc_2016", 330.12345678 / 2016),
        # blockchain.info: 24 h of fees in satoshis over n_blocks_mined (144)
        (providers.BLOCKCHAIN_INFO, "fees_btc_144", 24.12345678 / 144),
        (providers.MEMPOOL, "next_adjustment_pct", 1.8312),
        (providers.MEMPOOL, "next_adjustment_height", 925344),
        (providers.BLOCKCHAIN_INFO, "next_adjustment_height", 925344),
        (providers.MEMPOOL, "next_adjustment_time", 1764794940),  # ms -> s
    ],
)
def test_each_provider_parses_its_recorded_answer(provider, name, expected):
    assert value(provider, name) == pytest.approx(expected, rel=1e-12)


def test_as_of_comes_from_the_provider_where_it_gives_one():
    f = fetcher()
    assert providers.quote(f, providers.COINGECKO, "price_usd").as_of == dt.datetime(
        2025, 12, 1, 11, 59, 45
    )  # last_updated_at 1764590385
    assert providers.quote(f, providers.OKX, "price_usd").as_of == dt.datetime(
        2025, 12, 1, 12, 0, 0, 123000
    )
    assert providers.quote(f, providers.BINANCE, "price_usd").as_of == NOW  # no time given


def test_a_time_in_the_future_is_replaced_by_our_clock():
    far = json.dumps({"bitcoin": {"usd": 90000, "last_updated_at": 4_000_000_000}}).encode()
    q = providers.quote(fetcher(Recorded(bodies={"coingecko": far})), "coingecko", "price_usd")
    assert q.as_of == NOW


def test_blockchain_info_q_endpoints_back_up_stats():
    handler = Recorded(fail={"blockchain_info": "500"})
    assert value(providers.BLOCKCHAIN_INFO, "difficulty", handler) == 149301205959699.9
    assert value(providers.BLOCKCHAIN_INFO, "block_height", handler) == 925000
    assert handler.asked("/q/getdifficulty") == 1


def test_a_self_hosted_mempool_is_asked_at_its_configured_address():
    config = ProviderConfig.from_settings({"market.mempool.url": "http://mempool.farm.lan:8999/"})
    handler = Recorded(hosts={"mempool.farm.lan:8999": "mempool.space"})
    client = providers.make_client(config, httpx.MockTransport(handler))
    q = providers.quote(Fetcher(client, config, lambda: NOW), "mempool", "block_height")
    assert q.value == 925001
    assert handler.calls == ["http://mempool.farm.lan:8999/api/blocks/tip/height"]


def test_requests_carry_our_user_agent_and_a_short_timeout():
    seen = {}

    def handler(request):
        seen["ua"] = request.headers["User-Agent"]
        seen["timeout"] = request.extensions["timeout"]
        return httpx.Response(200, text="925000")

    config = ProviderConfig()
    client = providers.make_client(config, httpx.MockTransport(handler))
    providers.quote(Fetcher(client, config, lambda: NOW), "mempool", "block_height")
    assert seen["ua"].startswith("HashInsight/")
    assert seen["timeout"]["read"] == 3.0 and seen["timeout"]["connect"] == 3.0


# --- failures become ProviderError with a reason, never another exception -------------------


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        ("timeout", providers.TIMEOUT),
        ("connect", providers.NETWORK),
        ("429", providers.RATE_LIMITED),
        ("500", providers.SERVER_ERROR),
        ("503", providers.SERVER_ERROR),
        ("malformed", providers.MALFORMED),
        ("truncated", providers.MALFORMED),
    ],
)
def test_fallback_to_the_next_provider_on_each_failure(failure, reason):
    handler = Recorded(fail={"mempool": failure})
    outcome = providers.first_good(
        fetcher(handler), "difficulty", ["mempool", "blockchain_info", "coinwarz"]
    )
    assert outcome.quote.source == "blockchain_info"
    assert outcome.quote.value == 149301205959699.9
    assert [(e.provider, e.reason) for e in outcome.errors] == [("mempool", reason)]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"symbol": "BTCUSDT", "price": "abc"}', providers.MALFORMED),
        (b'{"symbol": "BTCUSDT", "price": true}', providers.MALFORMED),
        (b'{"symbol": "BTCUSDT", "price": null}', providers.MISSING),
        (b'{"symbol": "BTCUSDT"}', providers.MISSING),
        (b'["BTCUSDT", "91250.01"]', providers.MALFORMED),
        (b'{"symbol": "BTCUSDT", "price": "-5"}', providers.IMPLAUSIBLE),
        (b'{"symbol": "BTCUSDT", "price": "0"}', providers.IMPLAUSIBLE),
        (b'{"symbol": "BTCUSDT", "price": NaN}', providers.IMPLAUSIBLE),
        (b'{"symbol": "BTCUSDT", "price": "1e300"}', providers.IMPLAUSIBLE),
        (b'{"code": -1121, "msg": "Invalid symbol."}', providers.REFUSED),
        (b"\xff\xfe not utf-8", providers.MALFORMED),
        (b"", providers.MALFORMED),
    ],
)
def test_wrong_types_and_values_are_refused_with_a_reason(body, reason):
    with pytest.raises(ProviderError) as caught:
        providers.quote(fetcher(Recorded(bodies={"binance": body})), "binance", "price_usd")
    assert caught.value.reason == reason
    assert caught.value.provider == "binance"


def test_a_block_height_with_a_fraction_is_implausible():
    with pytest.raises(ProviderError, match="not a whole number"):
        providers.quote(
            fetcher(Recorded(bodies={"mempool": b"925000.5"})), "mempool", "block_height"
        )


def test_an_answer_too_large_is_refused_without_reading_it_all():
    huge = b"[" + b"1," * (providers.MAX_BODY_BYTES // 2 + 10) + b"1]"
    with pytest.raises(ProviderError, match="too large"):
        providers.quote(fetcher(Recorded(bodies={"binance": huge})), "binance", "price_usd")


def test_okx_and_deribit_errors_in_the_body_are_refusals():
    okx = b'{"code": "51001", "msg": "Instrument ID does not exist", "data": []}'
    deribit = b'{"jsonrpc": "2.0", "error": {"message": "Invalid params", "code": -32602}}'
    f = fetcher(Recorded(bodies={"okx": okx, "deribit": deribit}))
    for name in ("okx", "deribit"):
        with pytest.raises(ProviderError) as caught:
            providers.quote(f, name, "price_usd")
        assert caught.value.reason == providers.REFUSED


def test_coinwarz_needs_a_key_and_says_when_it_is_refused():
    with pytest.raises(ProviderError) as caught:
        providers.quote(fetcher(config=ProviderConfig()), "coinwarz", "difficulty")
    assert caught.value.reason == providers.NOT_CONFIGURED
    refused = Recorded(bodies={"coinwarz": b'{"Success": false, "Message": "Invalid API key."}'})
    with pytest.raises(ProviderError, match="Invalid API key"):
        providers.quote(fetcher(refused), "coinwarz", "difficulty")


def test_a_host_that_timed_out_is_not_asked_again_in_the_same_refresh():
    handler = Recorded(fail={"mempool": "timeout"})
    result = fetch(MarketConfig(), figures.FETCHED, now=NOW, transport=httpx.MockTransport(handler))
    # One timeout, then every other mempool figure fails fast without a request.
    assert handler.asked("mempool.space") == 1
    assert result.stored["difficulty"].source == "blockchain_info"
    assert result.stored["block_height"].source == "blockchain_info"
    assert "next_adjustment_pct" in result.failed  # only mempool has it
    assert result.failed["next_adjustment_pct"][0].reason == providers.TIMEOUT


def test_one_url_feeding_several_figures_is_fetched_once():
    handler = Recorded(fail={"mempool": "connect"})
    fetch(MarketConfig(), figures.FETCHED, now=NOW, transport=httpx.MockTransport(handler))
    assert handler.asked("api.blockchain.info/stats") == 1


# --- the price: median of the first three that answer -----------------------------------------


def test_price_is_the_median_of_three_exchanges():
    outcome = providers.median_of(
        fetcher(), "price_usd", ["binance", "okx", "deribit", "coingecko"], 3
    )
    # median(91250.01, 91244.3, 91238.77) = 91244.3; CoinGecko is not needed.
    assert outcome.quote.value == 91244.3
    assert outcome.quote.source == "median(binance,okx,deribit)"


def test_one_wrong_exchange_cannot_move_the_median():
    handler = Recorded(bodies={"binance": b'{"symbol": "BTCUSDT", "price": "120000"}'})
    outcome = providers.median_of(fetcher(handler), "price_usd", ["binance", "okx", "deribit"], 3)
    assert outcome.quote.value == 91244.3


def test_a_rate_limited_exchange_is_replaced_by_the_next_in_order():
    handler = Recorded(fail={"binance": "429"})
    order = ["binance", "okx", "deribit", "coingecko"]
    outcome = providers.median_of(fetcher(handler), "price_usd", order, 3)
    # median(91244.3, 91238.77, 91265.12) = 91244.3 from okx, deribit and coingecko
    assert outcome.quote.source == "median(okx,deribit,coingecko)"
    assert [e.reason for e in outcome.errors] == [providers.RATE_LIMITED]


def test_with_one_price_answering_that_price_is_used():
    fail = {name: "timeout" for name in ("binance", "okx", "deribit")}
    outcome = providers.median_of(
        fetcher(Recorded(fail=fail)), "price_usd", ["binance", "okx", "deribit", "coingecko"], 3
    )
    assert outcome.quote.source == "coingecko" and outcome.quote.value == 91265.12
    assert len(outcome.errors) == 3


def test_everything_failing_gives_no_quote_and_every_reason():
    fail = {name: "connect" for name in ("mempool", "blockchain_info", "blockchain_q", "coinwarz")}
    result = fetch(
        MarketConfig(), ["difficulty"], now=NOW, transport=httpx.MockTransport(Recorded(fail=fail))
    )
    assert result.stored == {}
    reasons = [(e.provider, e.reason) for e in result.failed["difficulty"]]
    # blockchain.info tries /stats, then the /q host, which is also down; coinwarz has no key.
    assert reasons == [("mempool", "network"), ("blockchain_info", "network")]


def test_next_retarget_height_is_computed_from_the_height_when_no_provider_has_it():
    stats = load("blockchain_stats.json")
    del stats["nextretarget"]
    handler = Recorded(fail={"mempool": "timeout"}, bodies={"blockchain_info": json.dumps(stats)})
    result = fetch(MarketConfig(), figures.FETCHED, now=NOW, transport=httpx.MockTransport(handler))
    q = result.stored["next_adjustment_height"]
    assert (q.value, q.source) == (925344, "computed")  # (925000 // 2016 + 1) * 2016


# --- property: any JSON at all never raises anything but ProviderError ----------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "price",
                    "bitcoin",
                    "usd",
                    "data",
                    "last",
                    "result",
                    "index_price",
                    "difficulty",
                    "currentDifficulty",
                    "currentHashrate",
                    "totalFee",
                    "startBlock",
                    "endBlock",
                    "Success",
                    "Data",
                    "Difficulty",
                    "BlockCount",
                    "hash_rate",
                    "timestamp",
                    "code",
                    "n_blocks_mined",
                    "total_fees_btc",
                    "difficultyChange",
                    "ts",
                    "USD",
                    "time",
                ]
            ),
            children,
            max_size=6,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=JSON)
def test_any_json_body_gives_a_value_or_a_provider_error(document):
    raw = json.dumps(document, allow_nan=True).encode()
    bodies = {
        p: raw
        for p in (
            "coingecko",
            "blockchain_info",
            "blockchain_q",
            "mempool",
            "coinwarz",
            "binance",
            "okx",
            "deribit",
        )
    }
    f = fetcher(Recorded(bodies=bodies))
    for funcs in providers.PROVIDERS.values():
        for func in funcs.values():
            try:
                value_, _ = func(f)
            except (ProviderError, figures.Implausible):
                continue
            assert isinstance(value_, float)
