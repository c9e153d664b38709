"""Market and network data providers: one small parser per figure per provider.

Every provider call goes through :class:`Fetcher`, which owns the only HTTP client (httpx,
short timeouts, our User-Agent) and turns *every* failure into a :class:`ProviderError`:
timeouts, refused connections, HTTP 429 and 5xx, bodies that are not JSON, missing fields,
wrong types and implausible values. Nothing a provider sends can raise anything else, so the
service can simply walk its fallback order.

One refresh uses one Fetcher: a URL asked for twice (blockchain.info ``/stats`` feeds five
figures) is fetched once, and a host that timed out or rate-limited us is not asked again in
the same refresh, which keeps a refresh with a dead provider short.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from hashinsight_core.market import figures

log = logging.getLogger(__name__)

USER_AGENT = "HashInsight/0.1 market-data (+https://github.com/hashinsight)"
DEFAULT_TIMEOUT_S = 3.0
MAX_BODY_BYTES = 2_000_000  # the largest answer we parse (a 2016-block chart is ~100 kB)

COINGECKO = "coingecko"
BLOCKCHAIN_INFO = "blockchain_info"
MEMPOOL = "mempool"
COINWARZ = "coinwarz"
BINANCE = "binance"
OKX = "okx"
DERIBIT = "deribit"

DEFAULT_URLS = {
    COINGECKO: "https://api.coingecko.com/api/v3",
    BLOCKCHAIN_INFO: "https://api.blockchain.info",
    "blockchain_info_q": "https://blockchain.info",
    MEMPOOL: "https://mempool.space",
    COINWARZ: "https://www.coinwarz.com/v1/api",
    BINANCE: "https://api.binance.com",
    OKX: "https://www.okx.com",
    DERIBIT: "https://www.deribit.com",
}

# Reasons a provider gave no usable value (ProviderError.reason).
TIMEOUT = "timeout"
NETWORK = "network"
RATE_LIMITED = "rate_limited"
SERVER_ERROR = "server_error"
HTTP_ERROR = "http_error"
MALFORMED = "malformed"
MISSING = "missing"
IMPLAUSIBLE = "implausible"
REFUSED = "refused"  # the provider answered but said no (bad key, unknown symbol)
NOT_CONFIGURED = "not_configured"
# Failures after which the host is skipped for the rest of one refresh.
HOST_DOWN = {TIMEOUT, NETWORK, RATE_LIMITED, SERVER_ERROR}


class ProviderError(Exception):
    """A provider could not give a figure; ``reason`` is one of the constants above."""

    def __init__(self, provider: str, reason: str, detail: str = ""):
        self.provider = provider
        self.reason = reason
        self.detail = detail[:200]
        super().__init__(f"{provider}: {reason}" + (f" ({self.detail})" if self.detail else ""))


@dataclass(frozen=True)
class Quote:
    """One figure's value as a provider gave it."""

    figure: str
    value: float
    source: str
    as_of: dt.datetime  # naive UTC: when the provider says the value was true


@dataclass
class ProviderConfig:
    """What the providers need from the settings: base URLs, keys, timeouts."""

    urls: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_URLS))
    coinwarz_api_key: str = ""
    coingecko_api_key: str = ""
    timeout_s: float = DEFAULT_TIMEOUT_S

    @classmethod
    def from_settings(cls, settings: Mapping) -> ProviderConfig:
        urls = dict(DEFAULT_URLS)
        for name in DEFAULT_URLS:
            value = (settings.get(f"market.{name}.url") or "").strip()
            if value:
                urls[name] = value.rstrip("/")
        return cls(
            urls=urls,
            coinwarz_api_key=(settings.get("market.coinwarz.api_key") or "").strip(),
            coingecko_api_key=(settings.get("market.coingecko.api_key") or "").strip(),
            timeout_s=float(settings.get("market.http_timeout_s") or DEFAULT_TIMEOUT_S),
        )


def make_client(config: ProviderConfig, transport: httpx.BaseTransport | None = None):
    """The one HTTP client of a refresh; ``transport`` lets tests replay recorded answers."""
    return httpx.Client(
        timeout=httpx.Timeout(config.timeout_s),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        transport=transport,
        follow_redirects=False,
    )


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Fetcher:
    """GETs for one refresh, memoized per URL, failing fast on a host that is down."""

    def __init__(self, client: httpx.Client, config: ProviderConfig, now: Callable = utcnow):
        self.client = client
        self.config = config
        self.now = now
        self._answers: dict[tuple, Any] = {}
        self._down: dict[str, ProviderError] = {}

    def _get(self, provider: str, url: str, params: dict | None, headers: dict | None) -> bytes:
        host = urlsplit(url).netloc
        if host in self._down:
            down = self._down[host]
            raise ProviderError(provider, down.reason, f"{host} failed earlier in this refresh")
        try:
            with self.client.stream("GET", url, params=params, headers=headers) as response:
                status = response.status_code
                if status == 429:
                    retry = response.headers.get("Retry-After", "")
                    raise ProviderError(provider, RATE_LIMITED, f"HTTP 429 retry-after {retry}")
                if status >= 500:
                    raise ProviderError(provider, SERVER_ERROR, f"HTTP {status}")
                if status != 200:
                    raise ProviderError(provider, HTTP_ERROR, f"HTTP {status}")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_BODY_BYTES:
                        raise ProviderError(provider, MALFORMED, "answer too large")
                return bytes(body)
        except ProviderError as error:
            if error.reason in HOST_DOWN:
                self._down[host] = error
            raise
        except httpx.TimeoutException as error:
            failure = ProviderError(provider, TIMEOUT, type(error).__name__)
        except httpx.HTTPError as error:  # connection refused, DNS, TLS, protocol errors
            failure = ProviderError(provider, NETWORK, f"{type(error).__name__}: {error}")
        self._down[host] = failure
        raise failure

    def _memo(self, key: tuple, load: Callable):
        if key not in self._answers:
            try:
                self._answers[key] = load()
            except ProviderError as error:
                self._answers[key] = error
        answer = self._answers[key]
        if isinstance(answer, ProviderError):
            raise ProviderError(answer.provider, answer.reason, answer.detail)
        return answer

    def json(self, provider: str, url: str, params: dict | None = None, headers=None) -> Any:
        def load():
            body = self._get(provider, url, params, headers)
            try:
                return json.loads(body)
            except ValueError as error:  # not JSON, or not UTF-8
                raise ProviderError(provider, MALFORMED, f"not JSON: {error}") from None

        return self._memo(("json", url, _frozen(params)), load)

    def text(self, provider: str, url: str, params: dict | None = None) -> str:
        def load():
            body = self._get(provider, url, params, None)
            try:
                return body.decode("utf-8").strip()
            except UnicodeDecodeError:
                raise ProviderError(provider, MALFORMED, "not UTF-8 text") from None

        return self._memo(("text", url, _frozen(params)), load)


def _frozen(params: dict | None) -> tuple:
    return tuple(sorted((params or {}).items()))


# --- defensive field access -----------------------------------------------------------------


def dig(provider: str, data: Any, *path):
    """``data[path[0]][path[1]]...``; a missing key or a wrong container is MISSING/MALFORMED."""
    value = data
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list):
                raise ProviderError(provider, MALFORMED, f"expected a list at {step!r}")
            if not -len(value) <= step < len(value):
                raise ProviderError(provider, MISSING, f"no item {step}")
            value = value[step]
        else:
            if not isinstance(value, dict):
                raise ProviderError(provider, MALFORMED, f"expected an object at '{step}'")
            if step not in value or value[step] is None:
                raise ProviderError(provider, MISSING, f"no '{step}'")
            value = value[step]
    return value


def number(provider: str, value: Any, what: str) -> float:
    """A JSON number, or a numeric string (exchanges send prices as strings)."""
    if isinstance(value, bool):
        raise ProviderError(provider, MALFORMED, f"{what}: a boolean, not a number")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise ProviderError(provider, MALFORMED, f"{what}: {str(value)[:40]!r} is not a number")


def from_unix(provider: str, value: Any, what: str, milliseconds: bool = False) -> dt.datetime:
    seconds = number(provider, value, what) / (1000 if milliseconds else 1)
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        raise ProviderError(provider, MALFORMED, f"{what}: {value!r} is not a time") from None


# --- the providers ------------------------------------------------------------------------

Reading = tuple[float, dt.datetime | None]  # value, as-of (None: "now")
FigureFunc = Callable[[Fetcher], Reading]
PROVIDERS: dict[str, dict[str, FigureFunc]] = {}


def provides(provider: str, *names: str):
    def register(func: FigureFunc) -> FigureFunc:
        for name in names:
            PROVIDERS.setdefault(provider, {})[name] = func
        return func

    return register


def _url(f: Fetcher, provider: str, path: str) -> str:
    return f.config.urls[provider] + path


# CoinGecko: GET /simple/price?ids=bitcoin&vs_currencies=usd&include_last_updated_at=true
# -> {"bitcoin": {"usd": 67187.34, "last_updated_at": 1711356300}}


@provides(COINGECKO, "price_usd")
def coingecko_price(f: Fetcher) -> Reading:
    headers = (
        {"x-cg-demo-api-key": f.config.coingecko_api_key} if f.config.coingecko_api_key else None
    )
    params = {"ids": "bitcoin", "vs_currencies": "usd", "include_last_updated_at": "true"}
    data = f.json(COINGECKO, _url(f, COINGECKO, "/simple/price"), params, headers)
    price = number(COINGECKO, dig(COINGECKO, data, "bitcoin", "usd"), "bitcoin.usd")
    updated = data["bitcoin"].get("last_updated_at")
    return price, from_unix(COINGECKO, updated, "last_updated_at") if updated else None


# blockchain.info: GET https://api.blockchain.info/stats -> one object with market_price_usd,
# difficulty, hash_rate (GH/s), n_blocks_total, total_fees_btc and n_blocks_mined (24 h, the
# fees in satoshis), nextretarget (height), timestamp (ms). /q/getdifficulty and
# /q/getblockcount answer plain text and back up /stats for those two figures.


def _bc_stats(f: Fetcher) -> dict:
    data = f.json(BLOCKCHAIN_INFO, _url(f, BLOCKCHAIN_INFO, "/stats"))
    if not isinstance(data, dict):
        raise ProviderError(BLOCKCHAIN_INFO, MALFORMED, "stats is not an object")
    return data


def _bc_time(data: dict) -> dt.datetime | None:
    stamp = data.get("timestamp")
    return from_unix(BLOCKCHAIN_INFO, stamp, "timestamp", milliseconds=True) if stamp else None


def _bc_field(f: Fetcher, key: str) -> Reading:
    data = _bc_stats(f)
    return number(BLOCKCHAIN_INFO, dig(BLOCKCHAIN_INFO, data, key), key), _bc_time(data)


@provides(BLOCKCHAIN_INFO, "price_usd")
def blockchain_price(f: Fetcher) -> Reading:
    return _bc_field(f, "market_price_usd")


def _bc_q(f: Fetcher, path: str, what: str) -> Reading:
    text = f.text(BLOCKCHAIN_INFO, f.config.urls["blockchain_info_q"] + path)
    return number(BLOCKCHAIN_INFO, text, what), None


@provides(BLOCKCHAIN_INFO, "difficulty")
def blockchain_difficulty(f: Fetcher) -> Reading:
    try:
        return _bc_field(f, "difficulty")
    except ProviderError:
        return _bc_q(f, "/q/getdifficulty", "getdifficulty")


@provides(BLOCKCHAIN_INFO, "block_height")
def blockchain_height(f: Fetcher) -> Reading:
    try:
        return _bc_field(f, "n_blocks_total")
    except ProviderError:
        return _bc_q(f, "/q/getblockcount", "getblockcount")


@provides(BLOCKCHAIN_INFO, "hashrate_ehs")
def blockchain_hashrate(f: Fetcher) -> Reading:
    value, at = _bc_field(f, "hash_rate")
    return value / 1e9, at  # GH/s -> EH/s


@provides(BLOCKCHAIN_INFO, "fees_btc_144")
def blockchain_fees(f: Fetcher) -> Reading:
    # The last 24 hours: roughly, not exactly, the last 144 blocks.
    fees_sat, at = _bc_field(f, "total_fees_btc")
    blocks, _ = _bc_field(f, "n_blocks_mined")
    if blocks <= 0:
        raise ProviderError(BLOCKCHAIN_INFO, IMPLAUSIBLE, "n_blocks_mined is 0")
    return fees_sat / figures.COIN_SATS / blocks, at


@provides(BLOCKCHAIN_INFO, "next_adjustment_height")
def blockchain_next_retarget(f: Fetcher) -> Reading:
    return _bc_field(f, "nextretarget")


# A mempool.space-style explorer (mempool.space itself or a self-hosted instance):
#   GET /api/blocks/tip/height                  -> 840000 (text)
#   GET /api/v1/difficulty-adjustment           -> {difficultyChange (%), nextRetargetHeight,
#                                                   estimatedRetargetDate (ms), ...}
#   GET /api/v1/mining/hashrate/3d              -> {currentHashrate (H/s), currentDifficulty}
#   GET /api/v1/mining/reward-stats/{n}         -> {startBlock, endBlock, totalReward,
#                                                   totalFee (sats, as strings), totalTx}
#   GET /api/v1/prices                          -> {time, USD, EUR, ...}


@provides(MEMPOOL, "block_height")
def mempool_height(f: Fetcher) -> Reading:
    return number(MEMPOOL, f.text(MEMPOOL, _url(f, MEMPOOL, "/api/blocks/tip/height")), "tip"), None


def _mempool_hashrate(f: Fetcher) -> dict:
    return f.json(MEMPOOL, _url(f, MEMPOOL, "/api/v1/mining/hashrate/3d"))


@provides(MEMPOOL, "difficulty")
def mempool_difficulty(f: Fetcher) -> Reading:
    data = _mempool_hashrate(f)
    return number(MEMPOOL, dig(MEMPOOL, data, "currentDifficulty"), "currentDifficulty"), None


@provides(MEMPOOL, "hashrate_ehs")
def mempool_hashrate(f: Fetcher) -> Reading:
    data = _mempool_hashrate(f)
    value = number(MEMPOOL, dig(MEMPOOL, data, "currentHashrate"), "currentHashrate")
    return value / 1e18, None  # H/s -> EH/s


def _mempool_adjustment(f: Fetcher) -> dict:
    return f.json(MEMPOOL, _url(f, MEMPOOL, "/api/v1/difficulty-adjustment"))


@provides(MEMPOOL, "next_adjustment_pct")
def mempool_adjustment_pct(f: Fetcher) -> Reading:
    data = _mempool_adjustment(f)
    return number(MEMPOOL, dig(MEMPOOL, data, "difficultyChange"), "difficultyChange"), None


@provides(MEMPOOL, "next_adjustment_height")
def mempool_adjustment_height(f: Fetcher) -> Reading:
    data = _mempool_adjustment(f)
    return number(MEMPOOL, dig(MEMPOOL, data, "nextRetargetHeight"), "nextRetargetHeight"), None


@provides(MEMPOOL, "next_adjustment_time")
def mempool_adjustment_time(f: Fetcher) -> Reading:
    data = _mempool_adjustment(f)
    ms = number(MEMPOOL, dig(MEMPOOL, data, "estimatedRetargetDate"), "estimatedRetargetDate")
    return float(round(ms / 1000)), None


def _mempool_fees(window: int) -> FigureFunc:
    def fees(f: Fetcher) -> Reading:
        data = f.json(MEMPOOL, _url(f, MEMPOOL, f"/api/v1/mining/reward-stats/{window}"))
        total = number(MEMPOOL, dig(MEMPOOL, data, "totalFee"), "totalFee")
        blocks = float(window)
        if isinstance(data.get("startBlock"), int | str) and isinstance(
            data.get("endBlock"), int | str
        ):
            start = number(MEMPOOL, data["startBlock"], "startBlock")
            end = number(MEMPOOL, data["endBlock"], "endBlock")
            if end >= start:
                blocks = end - start + 1
        return total / figures.COIN_SATS / blocks, None

    return fees


for _window in figures.FEE_WINDOWS:
    provides(MEMPOOL, f"fees_btc_{_window}")(_mempool_fees(_window))


@provides(MEMPOOL, "price_usd")
def mempool_price(f: Fetcher) -> Reading:
    data = f.json(MEMPOOL, _url(f, MEMPOOL, "/api/v1/prices"))
    price = number(MEMPOOL, dig(MEMPOOL, data, "USD"), "USD")
    stamp = data.get("time")
    return price, from_unix(MEMPOOL, stamp, "time") if stamp else None


# CoinWarz (needs an API key): GET /coininformation?apikey=KEY&cointag=BTC
# -> {"Success": true, "Message": "...", "Data": {"Difficulty": ..., "BlockCount": ..., ...}}


def _coinwarz(f: Fetcher) -> dict:
    if not f.config.coinwarz_api_key:
        raise ProviderError(COINWARZ, NOT_CONFIGURED, "set market.coinwarz.api_key")
    params = {"apikey": f.config.coinwarz_api_key, "cointag": "BTC"}
    data = f.json(COINWARZ, _url(f, COINWARZ, "/coininformation"), params)
    if not isinstance(data, dict) or data.get("Success") is not True:
        message = data.get("Message", "") if isinstance(data, dict) else ""
        raise ProviderError(COINWARZ, REFUSED, str(message))
    return dig(COINWARZ, data, "Data")


@provides(COINWARZ, "difficulty")
def coinwarz_difficulty(f: Fetcher) -> Reading:
    return number(COINWARZ, dig(COINWARZ, _coinwarz(f), "Difficulty"), "Difficulty"), None


@provides(COINWARZ, "block_height")
def coinwarz_height(f: Fetcher) -> Reading:
    return number(COINWARZ, dig(COINWARZ, _coinwarz(f), "BlockCount"), "BlockCount"), None


# Exchanges. Binance and OKX quote BTC against USDT, which we take as USD (it trades within
# a fraction of a percent of it); Deribit's btc_usd index is itself a multi-exchange average.
#   Binance  GET /api/v3/ticker/price?symbol=BTCUSDT -> {"symbol": "BTCUSDT", "price": "..."}
#   OKX      GET /api/v5/market/ticker?instId=BTC-USDT -> {"code": "0", "data": [{"last", "ts"}]}
#   Deribit  GET /api/v2/public/get_index_price?index_name=btc_usd
#            -> {"jsonrpc": "2.0", "result": {"index_price": ...}, "usOut": ...}


@provides(BINANCE, "price_usd")
def binance_price(f: Fetcher) -> Reading:
    data = f.json(BINANCE, _url(f, BINANCE, "/api/v3/ticker/price"), {"symbol": "BTCUSDT"})
    if isinstance(data, dict) and "code" in data and "price" not in data:
        raise ProviderError(BINANCE, REFUSED, str(data.get("msg", data["code"])))
    return number(BINANCE, dig(BINANCE, data, "price"), "price"), None


@provides(OKX, "price_usd")
def okx_price(f: Fetcher) -> Reading:
    data = f.json(OKX, _url(f, OKX, "/api/v5/market/ticker"), {"instId": "BTC-USDT"})
    if isinstance(data, dict) and str(data.get("code", "0")) != "0":
        raise ProviderError(OKX, REFUSED, str(data.get("msg") or data["code"]))
    ticker = dig(OKX, data, "data", 0)
    price = number(OKX, dig(OKX, ticker, "last"), "last")
    stamp = ticker.get("ts")
    return price, from_unix(OKX, stamp, "ts", milliseconds=True) if stamp else None


@provides(DERIBIT, "price_usd")
def deribit_price(f: Fetcher) -> Reading:
    params = {"index_name": "btc_usd"}
    data = f.json(DERIBIT, _url(f, DERIBIT, "/api/v2/public/get_index_price"), params)
    if isinstance(data, dict) and "error" in data:
        error = data["error"]
        raise ProviderError(DERIBIT, REFUSED, str(error.get("message", error))[:100])
    price = number(DERIBIT, dig(DERIBIT, data, "result", "index_price"), "index_price")
    stamp = data.get("usOut")  # when Deribit answered, in microseconds
    at = from_unix(DERIBIT, number(DERIBIT, stamp, "usOut") / 1e6, "usOut") if stamp else None
    return price, at


# --- walking a fallback order ---------------------------------------------------------------

FUTURE_SLACK = dt.timedelta(minutes=5)


def quote(f: Fetcher, provider: str, name: str) -> Quote:
    """One provider's value for figure ``name``, checked; ProviderError otherwise."""
    func = PROVIDERS.get(provider, {}).get(name)
    if func is None:
        raise ProviderError(provider, NOT_CONFIGURED, f"does not provide {name}")
    now = f.now()
    try:
        value, as_of = func(f)
        value = figures.check(name, value)
    except ProviderError:
        raise
    except figures.Implausible as error:
        raise ProviderError(provider, IMPLAUSIBLE, str(error)) from None
    except Exception as error:  # noqa: BLE001 - a parser bug must not stop the other figures
        log.exception("market provider %s failed on %s", provider, name)
        raise ProviderError(provider, MALFORMED, f"{type(error).__name__}: {error}") from None
    # A clock far in the future would keep a value "fresh" forever: trust our own clock then.
    if as_of is None or as_of > now + FUTURE_SLACK:
        as_of = now
    return Quote(name, value, provider, as_of)


@dataclass
class Outcome:
    """The result of walking one figure's order: a quote (or None) and what failed on the way."""

    figure: str
    quote: Quote | None
    errors: list[ProviderError]


def first_good(f: Fetcher, name: str, order: list[str]) -> Outcome:
    errors: list[ProviderError] = []
    for provider in order:
        try:
            return Outcome(name, quote(f, provider, name), errors)
        except ProviderError as error:
            errors.append(error)
    return Outcome(name, None, errors)


def median_of(f: Fetcher, name: str, order: list[str], wanted: int) -> Outcome:
    """The median of the first ``wanted`` providers in ``order`` that answer.

    With three quotes one wrong exchange cannot move the price; with fewer answering, the
    median of those that did (one quote is that quote). ``as_of`` is the oldest used quote's.
    """
    errors: list[ProviderError] = []
    quotes: list[Quote] = []
    for provider in order:
        if len(quotes) >= wanted:
            break
        try:
            quotes.append(quote(f, provider, name))
        except ProviderError as error:
            errors.append(error)
    if not quotes:
        return Outcome(name, None, errors)
    value = statistics.median(q.value for q in quotes)
    if len(quotes) == 1:
        return Outcome(name, quotes[0], errors)
    source = "median(" + ",".join(q.source for q in quotes) + ")"
    as_of = min(q.as_of for q in quotes)
    return Outcome(name, Quote(name, value, source, as_of), errors)
