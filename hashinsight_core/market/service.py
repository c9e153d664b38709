"""The market data service: read the stored figures, refresh them from providers, overrides.

Reading never touches the network. :func:`current` answers from the database: the admin's
override if one is active, else the newest stored value, marked ``stale`` with its age once
it is older than its time-to-live. A stale read asks the worker for a refresh (after this
request commits, at most once a minute per process) and still answers at once with what it
has: stale-while-revalidate. The periodic task refreshes every few minutes regardless.

:func:`refresh` is the only code that calls providers. It fetches first and writes after, so
no database transaction waits on a slow provider. docs/market-data.md draws the whole flow.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import zope.sqlalchemy
from pyramid.exceptions import ConfigurationError
from pyramid.i18n import TranslationStringFactory
from pyramid.path import DottedNameResolver

from hashinsight_core.db import utcnow
from hashinsight_core.exceptions import InvalidInput
from hashinsight_core.market import figures, providers
from hashinsight_core.market.models import (
    MarketDifficulty,
    MarketLatest,
    MarketOverride,
    MarketPriceDaily,
)
from hashinsight_core.settings import asbool, aslist
from hashinsight_core.tasks import job

log = logging.getLogger(__name__)

P = providers
DEFAULT_ORDERS: dict[str, list[str]] = {
    # Exchanges first: their tickers are the market; the aggregators back them up.
    "price_usd": [P.BINANCE, P.OKX, P.DERIBIT, P.COINGECKO, P.MEMPOOL, P.BLOCKCHAIN_INFO],
    "difficulty": [P.MEMPOOL, P.BLOCKCHAIN_INFO, P.COINWARZ],
    "hashrate_ehs": [P.MEMPOOL, P.BLOCKCHAIN_INFO],
    "block_height": [P.MEMPOOL, P.BLOCKCHAIN_INFO, P.COINWARZ],
    "fees_btc_144": [P.MEMPOOL, P.BLOCKCHAIN_INFO],
    "fees_btc_1008": [P.MEMPOOL],
    "fees_btc_2016": [P.MEMPOOL],
    "next_adjustment_pct": [P.MEMPOOL],
    "next_adjustment_height": [P.MEMPOOL, P.BLOCKCHAIN_INFO],
    "next_adjustment_time": [P.MEMPOOL],
}
DEFAULT_PRICE_MEDIAN_OF = 3
DEFAULT_FEE_WINDOW = 144
ENQUEUE_EVERY_S = 60.0  # a stale read asks for a refresh at most this often per process
RETRY_AFTER_FAILURE_S = 120  # ...and not while the last attempt failed this recently
COMPUTED = "computed"
OVERRIDE = "override"
IMPORT = "import"
UPDATED_EVENT = "core:market:updated"


@dataclass
class MarketConfig:
    """The market settings (``market.*`` keys), checked once at start-up."""

    orders: dict[str, list[str]] = field(default_factory=lambda: dict(DEFAULT_ORDERS))
    ttl_s: dict[str, int] = field(
        default_factory=lambda: {n: s.ttl_s for n, s in figures.FIGURES.items()}
    )
    price_median_of: int = DEFAULT_PRICE_MEDIAN_OF
    fee_window: int = DEFAULT_FEE_WINDOW
    offline: bool = False
    providers: providers.ProviderConfig = field(default_factory=providers.ProviderConfig)
    transport: Any = None  # an httpx transport (tests replay recorded answers through one)

    @classmethod
    def from_settings(cls, settings: Mapping) -> MarketConfig:
        config = cls(providers=providers.ProviderConfig.from_settings(settings))
        config.offline = asbool(settings.get("market.offline", False))
        for name in figures.FETCHED:
            given = settings.get(f"market.order.{name}")
            if given is None:
                continue
            order = aslist(given)
            unknown = [p for p in order if p not in providers.PROVIDERS]
            if unknown:
                known = " ".join(sorted(providers.PROVIDERS))
                raise ConfigurationError(
                    f"market.order.{name}: unknown provider '{unknown[0]}' (known: {known})"
                )
            missing = [p for p in order if name not in providers.PROVIDERS[p]]
            if missing:
                raise ConfigurationError(
                    f"market.order.{name}: provider '{missing[0]}' does not give {name}"
                )
            config.orders[name] = order
        for name in figures.FIGURES:
            if settings.get(f"market.ttl.{name}"):
                config.ttl_s[name] = _positive_int(settings, f"market.ttl.{name}")
        if settings.get("market.price.median_of"):
            config.price_median_of = _positive_int(settings, "market.price.median_of")
        if settings.get("market.fee_window"):
            config.fee_window = _positive_int(settings, "market.fee_window")
            if config.fee_window not in figures.FEE_WINDOWS:
                windows = ", ".join(str(w) for w in figures.FEE_WINDOWS)
                raise ConfigurationError(f"market.fee_window: use one of {windows}")
        transport = settings.get("market.transport")
        if isinstance(transport, str) and transport.strip():
            transport = DottedNameResolver().resolve(transport.strip())
            transport = transport() if callable(transport) else transport
        config.transport = transport or None
        return config


def _positive_int(settings: Mapping, key: str) -> int:
    try:
        value = int(str(settings[key]).strip())
    except ValueError:
        raise ConfigurationError(f"{key}: '{settings[key]}' is not a whole number") from None
    if value < 1:
        raise ConfigurationError(f"{key}: must be 1 or more")
    return value


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One figure as the pages and the calculator see it."""

    name: str
    value: float | None = None
    source: str | None = None  # a provider name, "median(a,b,c)", "override", "import", ...
    as_of: dt.datetime | None = None  # naive UTC
    fetched_at: dt.datetime | None = None
    age_s: int | None = None
    stale: bool = False
    overridden: bool = False
    note: str = ""
    expires_at: dt.datetime | None = None
    error: str | None = None  # what failed on the latest refresh attempt
    error_at: dt.datetime | None = None

    @property
    def unit(self) -> str:
        return figures.FIGURES[self.name].unit

    @property
    def available(self) -> bool:
        return self.value is not None


@dataclass
class MarketSnapshot:
    """Every figure at one moment: ``snapshot.price_usd.value``, ``.source``, ``.stale``...

    ``fees_per_block_btc`` is the fee figure of the configured window. ``empty`` is true when
    nothing at all is stored (a new install that is offline): see docs/market-data.md.
    """

    figures: dict[str, Figure]
    now: dt.datetime
    fee_window: int = DEFAULT_FEE_WINDOW
    refresh_queued: bool = False

    def __getattr__(self, name: str) -> Figure:
        found = self.__dict__.get("figures", {}).get(name)
        if found is None:
            raise AttributeError(name)
        return found

    @property
    def fees_per_block_btc(self) -> Figure:
        return self.figures[f"fees_btc_{self.fee_window}"]

    @property
    def empty(self) -> bool:
        return not any(f.available for f in self.figures.values())

    @property
    def stale(self) -> bool:
        return any(f.stale for f in self.figures.values() if f.available)


def _age(now: dt.datetime, then: dt.datetime | None) -> int | None:
    return None if then is None else max(0, int((now - then).total_seconds()))


def read_snapshot(dbsession, config: MarketConfig, now: dt.datetime | None = None):
    """The stored figures with overrides applied and the hashprice computed. No side effects."""
    now = now or utcnow()
    rows = {row.figure: row for row in dbsession.scalars(sa.select(MarketLatest))}
    overrides = {row.figure: row for row in active_overrides(dbsession, now)}
    result: dict[str, Figure] = {}
    for name in figures.FIGURES:
        override, row = overrides.get(name), rows.get(name)
        if override is not None:
            result[name] = Figure(
                name,
                override.value,
                OVERRIDE,
                override.created_at,
                override.created_at,
                _age(now, override.created_at),
                stale=False,  # an admin's value is what they want, however old
                overridden=True,
                note=override.note,
                expires_at=override.expires_at,
                error=row.last_error if row is not None else None,
            )
        elif row is not None:
            age = _age(now, row.as_of)
            result[name] = Figure(
                name,
                row.value,
                row.source,
                row.as_of,
                row.fetched_at,
                age,
                stale=age > config.ttl_s[name],
                error=row.last_error,
                error_at=row.error_at,
            )
        elif not figures.FIGURES[name].computed:
            result[name] = Figure(name, error=None)
    if "hashprice_usd_th_day" not in result:
        result["hashprice_usd_th_day"] = _hashprice(result, config, now)
    return MarketSnapshot(result, now, config.fee_window)


def _hashprice(found: dict[str, Figure], config: MarketConfig, now: dt.datetime) -> Figure:
    inputs = [
        found["price_usd"],
        found["difficulty"],
        found["block_height"],
        found[f"fees_btc_{config.fee_window}"],
    ]
    name = "hashprice_usd_th_day"
    if not all(f.available for f in inputs[:3]):
        return Figure(name)
    fees = inputs[3].value if inputs[3].available else 0.0
    used = [f for f in inputs if f.available]
    value = figures.hashprice_usd_th_day(inputs[0].value, inputs[1].value, inputs[2].value, fees)
    as_of = min(f.as_of for f in used)
    note = "" if inputs[3].available else "without fees: no fee figure stored"
    return Figure(
        name,
        value,
        COMPUTED,
        as_of,
        max(f.fetched_at for f in used),
        _age(now, as_of),
        stale=any(f.stale for f in used),
        note=note,
    )


def _wants_refresh(snapshot: MarketSnapshot) -> bool:
    for name in figures.FETCHED:
        found = snapshot.figures[name]
        if found.overridden or (found.available and not found.stale):
            continue
        # The last attempt failed moments ago (an offline farm): asking again at once would
        # fail the same way, so a page view does not queue one.
        failed_at = found.error_at
        if failed_at and found.fetched_at and failed_at > found.fetched_at:
            if (snapshot.now - failed_at).total_seconds() < RETRY_AFTER_FAILURE_S:
                continue
        return True
    return False


class _Throttle:
    """At most one refresh request per ``every`` seconds in this process."""

    def __init__(self, every: float = ENQUEUE_EVERY_S):
        self.every = every
        self._lock = threading.Lock()
        self._last = float("-inf")

    def ready(self) -> bool:
        with self._lock:
            now = time.monotonic()
            if now - self._last < self.every:
                return False
            self._last = now
            return True


def current(request_or_dbsession, config: MarketConfig | None = None, now=None):
    """The market now, for pages, APIs and the calculator: a :class:`MarketSnapshot`.

    Given a request it also asks the worker for a refresh when something is stale or missing
    (after the request commits; never waiting for it). Given a bare database session (scripts,
    tasks, tests) it only reads.
    """
    target = request_or_dbsession
    request = target if hasattr(target, "registry") and hasattr(target, "dbsession") else None
    if request is not None:
        config = config or request.registry["market.config"]
        dbsession = request.dbsession
    else:
        config = config or MarketConfig()
        dbsession = target
    snapshot = read_snapshot(dbsession, config, now)
    if request is not None and not config.offline and _wants_refresh(snapshot):
        snapshot.refresh_queued = request_refresh(request, snapshot)
    return snapshot


def request_refresh(request, snapshot: MarketSnapshot | None = None) -> bool:
    """Queue a refresh of stale and missing figures unless this process queued one moments
    ago; True when one was queued (it runs once this request commits)."""
    if not request.registry["market.throttle"].ready():
        return False
    request.enqueue(refresh_job, True)
    return True


# --- refreshing ---------------------------------------------------------------------------


@dataclass
class RefreshResult:
    stored: dict[str, providers.Quote] = field(default_factory=dict)
    failed: dict[str, list[providers.ProviderError]] = field(default_factory=dict)
    fell_back: dict[str, list[providers.ProviderError]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    offline: bool = False

    def lines(self) -> list[str]:
        """Human lines for the CLI and logs."""
        if self.offline:
            return ["market.offline is on: no provider was asked"]
        out = []
        for name, q in self.stored.items():
            extra = ""
            if name in self.fell_back:
                extra = " (after " + "; ".join(str(e) for e in self.fell_back[name]) + ")"
            out.append(f"{name}: {q.value:g} from {q.source}{extra}")
        for name, errors in self.failed.items():
            out.append(f"{name}: no provider answered: " + "; ".join(str(e) for e in errors))
        return out


def fetch(config: MarketConfig, names, now=None, transport=None) -> RefreshResult:
    """Ask the providers for ``names`` (no database). Never raises for a provider's failure."""
    result = RefreshResult()
    if config.offline:
        result.offline = True
        return result
    clock = (lambda: now) if now is not None else providers.utcnow
    transport = transport if transport is not None else config.transport
    with providers.make_client(config.providers, transport) as client:
        fetcher = providers.Fetcher(client, config.providers, clock)
        for name in names:
            order = config.orders[name]
            if name == "price_usd" and config.price_median_of > 1:
                outcome = providers.median_of(fetcher, name, order, config.price_median_of)
            else:
                outcome = providers.first_good(fetcher, name, order)
            # A provider we hold no key for is a setting, not a failure worth showing.
            errors = [e for e in outcome.errors if e.reason != providers.NOT_CONFIGURED]
            if outcome.quote is not None:
                result.stored[name] = outcome.quote
                if errors:
                    result.fell_back[name] = errors
            else:
                result.failed[name] = errors
    # With the height known, the next retarget height needs no provider at all.
    if "next_adjustment_height" in result.failed and "block_height" in result.stored:
        height = result.stored["block_height"]
        result.stored["next_adjustment_height"] = providers.Quote(
            "next_adjustment_height",
            float(figures.next_retarget_height(int(height.value))),
            COMPUTED,
            height.as_of,
        )
        result.failed.pop("next_adjustment_height")
    return result


def store(dbsession, result: RefreshResult, now=None) -> None:
    """Write a refresh's values (upserts) and note failures on the figures that have rows."""
    now = now or utcnow()
    for name, q in result.stored.items():
        errors = result.fell_back.get(name)
        upsert(
            dbsession,
            MarketLatest,
            {
                "figure": name,
                "value": q.value,
                "source": q.source[:120],
                "as_of": q.as_of,
                "fetched_at": now,
                "last_error": "; ".join(str(e) for e in errors)[:2000] if errors else None,
                "error_at": now if errors else None,
            },
            ["figure"],
        )
    for name, errors in result.failed.items():
        message = "; ".join(str(e) for e in errors)[:2000] or "no provider configured"
        dbsession.execute(
            sa.update(MarketLatest)
            .where(MarketLatest.figure == name)
            .values(last_error=message, error_at=now)
        )


def stale_or_missing(dbsession, config: MarketConfig, now=None) -> list[str]:
    snapshot = read_snapshot(dbsession, config, now)
    names = []
    for name in figures.FETCHED:
        found = snapshot.figures[name]
        if not found.overridden and (not found.available or found.stale):
            names.append(name)
    return names


def refresh(dbsession, config: MarketConfig, only_stale: bool = False, now=None, transport=None):
    """Fetch (all, or only stale and missing) figures and store them; a RefreshResult."""
    names = stale_or_missing(dbsession, config, now) if only_stale else list(figures.FETCHED)
    result = fetch(config, names, now=now, transport=transport)
    result.skipped = [n for n in figures.FETCHED if n not in names]
    store(dbsession, result, now)
    return result


def _refresh_in_request(request, only_stale: bool) -> RefreshResult:
    config = request.registry["market.config"]
    result = refresh(request.dbsession, config, only_stale=only_stale)
    for line in result.lines():
        log.info("market refresh: %s", line)
    if {"price_usd", "difficulty"} & set(result.stored):
        request.emit(UPDATED_EVENT, figures=sorted(result.stored))
    return result


@job
def refresh_job(request, only_stale: bool = True) -> None:
    """The refresh a stale read asks for (``request.enqueue(refresh_job, True)``)."""
    _refresh_in_request(request, only_stale)


def refresh_periodic(request) -> None:
    """Every few minutes on the worker: every figure, fresh or not."""
    _refresh_in_request(request, only_stale=False)


# --- overrides ------------------------------------------------------------------------------

MAX_NOTE = 500

_ = TranslationStringFactory("hashinsight")

# What figures.check found wrong, worded for a person (figures.py stays free of Pyramid).
IMPLAUSIBLE = {
    "not_number": _("value: ${figure}: ${value} is not a number"),
    "not_finite": _("value: ${figure}: ${value} is not a finite number"),
    "out_of_range": _("value: ${figure}: ${value} is outside the plausible range ${low}..${high}"),
    "not_whole": _("value: ${figure}: ${value} is not a whole number"),
}


def active_overrides(dbsession, now=None) -> list[MarketOverride]:
    now = now or utcnow()
    query = (
        sa.select(MarketOverride)
        .where(sa.or_(MarketOverride.expires_at.is_(None), MarketOverride.expires_at > now))
        .order_by(MarketOverride.figure)
    )
    return list(dbsession.scalars(query))


def set_override(
    dbsession,
    name: str,
    value: Any,
    note: str = "",
    expires_at: dt.datetime | None = None,
    user_id: int | None = None,
    now: dt.datetime | None = None,
) -> MarketOverride:
    """Store an admin's value for ``name``; it replaces any earlier override of that figure."""
    now = now or utcnow()
    if name not in figures.FIGURES:
        raise InvalidInput(
            _("figure: unknown figure '${figure}'", mapping={"figure": str(name)[:40]}), "figure"
        )
    try:
        number = figures.check(name, value)
    except figures.Implausible as error:
        raise InvalidInput(_(IMPLAUSIBLE[error.code], mapping=error.values), "value") from None
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(
            _("note: at most ${most} characters", mapping={"most": MAX_NOTE}), "note"
        )
    if expires_at is not None:
        if expires_at.tzinfo is not None:
            expires_at = expires_at.astimezone(dt.UTC).replace(tzinfo=None)
        if expires_at <= now:
            raise InvalidInput(_("expires_at: must be in the future"), "expires_at")
    row = dbsession.get(MarketOverride, name)
    if row is None:
        row = MarketOverride(figure=name)
        dbsession.add(row)
    row.value, row.note, row.expires_at = number, note, expires_at
    row.created_by_id, row.created_at = user_id, now
    dbsession.flush()
    return row


def clear_override(dbsession, name: str) -> bool:
    """Remove the override of ``name``; False when there was none."""
    row = dbsession.get(MarketOverride, name)
    if row is None:
        return False
    dbsession.delete(row)
    dbsession.flush()
    return True


# --- history -----------------------------------------------------------------------------------

HISTORY_KINDS = ("price", "difficulty")


def history_query(kind: str, start: dt.date | None = None, end: dt.date | None = None):
    """Daily prices or difficulty rows from ``start`` to ``end`` (both inclusive), oldest first."""
    if kind == "price":
        query = sa.select(MarketPriceDaily).order_by(MarketPriceDaily.date)
        column = MarketPriceDaily.date
    elif kind == "difficulty":
        query = sa.select(MarketDifficulty).order_by(
            MarketDifficulty.date.asc().nulls_last(),
            MarketDifficulty.height.asc().nulls_last(),
        )
        column = MarketDifficulty.date
    else:
        raise InvalidInput(
            _("kind: use one of ${kinds}", mapping={"kinds": ", ".join(HISTORY_KINDS)}), "kind"
        )

    if start is not None:
        query = query.where(column >= start)
    if end is not None:
        query = query.where(column <= end)
    return query


def history_dict(row) -> dict:
    if isinstance(row, MarketPriceDaily):
        return {
            "date": row.date.isoformat(),
            "open": row.open,
            "high": row.high,
            "low": row.low,
            "close": row.close,
            "volume": row.volume,
            "source": row.source,
        }
    return {
        "date": row.date.isoformat() if row.date else None,
        "height": row.height,
        "difficulty": row.difficulty,
        "source": row.source,
    }


# --- shared -----------------------------------------------------------------------------------


def upsert(dbsession, model, values: dict | list[dict], keys: list[str]) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE on SQLite and PostgreSQL alike."""
    rows = values if isinstance(values, list) else [values]
    if not rows:
        return
    dialect = dbsession.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the two databases we support
        raise RuntimeError(f"upsert is not written for {dialect}")
    statement = insert(model.__table__)
    updates = {c: statement.excluded[c] for c in rows[0] if c not in keys}
    dbsession.execute(statement.on_conflict_do_update(index_elements=keys, set_=updates), rows)
    # A Core statement: tell the transaction manager this session wrote, or it rolls back.
    zope.sqlalchemy.mark_changed(dbsession)


def figure_dict(found: Figure) -> dict:
    def stamp(value):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None

    out = {
        "value": found.value,
        "unit": found.unit,
        "source": found.source,
        "as_of": stamp(found.as_of),
        "fetched_at": stamp(found.fetched_at),
        "age_s": found.age_s,
        "stale": found.stale,
        "overridden": found.overridden,
    }
    if found.overridden:
        out["note"] = found.note
        out["expires_at"] = stamp(found.expires_at)
    if found.error:
        out["error"] = found.error
    return out


def snapshot_dict(snapshot: MarketSnapshot) -> dict:
    return {
        "figures": {name: figure_dict(f) for name, f in snapshot.figures.items()},
        "fee_window": snapshot.fee_window,
        "empty": snapshot.empty,
        "stale": snapshot.stale,
        "refresh_queued": snapshot.refresh_queued,
        "now": snapshot.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
