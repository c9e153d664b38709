"""The market tables: the latest value of each figure, admin overrides, and daily history.

Only :mod:`hashinsight_core.market.service` and :mod:`hashinsight_core.market.importer`
write them; other code reads through ``market.current(...)`` and ``service.history_query``.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hashinsight_core.db import Base, utcnow


class MarketLatest(Base):
    """The newest good value of one figure and where it came from (the cache the pages read).

    ``as_of`` is when the value was true (the provider's own time where it gives one);
    ``fetched_at`` when we stored it. ``last_error`` keeps what failed on the latest refresh
    attempt, shown on the admin page; it is cleared by the next clean refresh.
    """

    __tablename__ = "core_market_latest"

    figure: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    value: Mapped[float] = mapped_column(sa.Float())
    source: Mapped[str] = mapped_column(sa.String(120))
    as_of: Mapped[dt.datetime] = mapped_column(sa.DateTime())
    fetched_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.Text())
    error_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime())


class MarketOverride(Base):
    """An admin's value for one figure; it wins over providers until cleared or expired."""

    __tablename__ = "core_market_overrides"

    figure: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    value: Mapped[float] = mapped_column(sa.Float())
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime())


class MarketPriceDaily(Base):
    """One UTC day of BTC/USD. Imported rows carry OHLC and volume (BTC); rows from a
    provider's daily series may carry the close only."""

    __tablename__ = "core_market_price_daily"

    date: Mapped[dt.date] = mapped_column(sa.Date(), primary_key=True)
    open: Mapped[float | None] = mapped_column(sa.Float())
    high: Mapped[float | None] = mapped_column(sa.Float())
    low: Mapped[float | None] = mapped_column(sa.Float())
    close: Mapped[float] = mapped_column(sa.Float())
    volume: Mapped[float | None] = mapped_column(sa.Float())
    source: Mapped[str] = mapped_column(sa.String(40), default="import")
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(), default=utcnow)


class MarketDifficulty(Base):
    """A difficulty known at a block height and/or on a date (an epoch start, typically).

    A row is found again by its height when it has one, else by its date, which is what makes
    a re-import an update instead of a duplicate.
    """

    __tablename__ = "core_market_difficulty"

    id: Mapped[int] = mapped_column(primary_key=True)
    height: Mapped[int | None] = mapped_column(sa.Integer(), unique=True)
    date: Mapped[dt.date | None] = mapped_column(sa.Date(), unique=True)
    difficulty: Mapped[float] = mapped_column(sa.Float())
    source: Mapped[str] = mapped_column(sa.String(40), default="import")
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(), default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("height IS NOT NULL OR date IS NOT NULL", name="height_or_date"),
    )
