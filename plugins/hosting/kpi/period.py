"""The period a KPI report covers: a preset (last 24 hours, 7 or 30 days) or custom dates.

Periods are UTC and aligned to the 5-minute buckets of the telemetry history; the end is cut
at the last bucket that has ended, so "last 7 days" never counts future intervals as downtime.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pyramid.i18n import TranslationStringFactory

from hashinsight_core.exceptions import InvalidInput
from plugins.hosting.telemetry.config import BUCKET, DAY, floor_time

_ = TranslationStringFactory("hashinsight")

PRESETS = {"24h": dt.timedelta(hours=24), "7d": dt.timedelta(days=7), "30d": dt.timedelta(days=30)}
PERIOD_CHOICES = (*PRESETS, "custom")
DEFAULT_PRESET = "7d"
MAX_SPAN = dt.timedelta(days=366)


@dataclass(frozen=True)
class Period:
    """[start, end), both on 5-minute boundaries."""

    start: dt.datetime
    end: dt.datetime
    preset: str = "custom"

    @property
    def buckets(self) -> int:
        return int((self.end - self.start) / BUCKET)

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600

    def days(self) -> list[dt.date]:
        """The UTC days the period touches, oldest first."""
        first, last = self.start.date(), (self.end - BUCKET).date()
        return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]

    def day_buckets(self, day: dt.date) -> int:
        """How many of the period's buckets fall on ``day``."""
        start = max(self.start, dt.datetime.combine(day, dt.time()))
        end = min(self.end, dt.datetime.combine(day, dt.time()) + DAY)
        return max(0, int((end - start) / BUCKET))

    def as_dict(self) -> dict:
        return {
            "preset": self.preset,
            "from": self.start.isoformat() + "Z",
            "to": self.end.isoformat() + "Z",
            "hours": self.hours,
            "intervals": self.buckets,
        }


def _parse_moment(text: str, name: str, *, is_end: bool) -> dt.datetime:
    """``YYYY-MM-DD`` (a whole UTC day; an end date counts in full) or an ISO date and time."""
    text = text.strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            moment = dt.datetime.combine(day, dt.time())
            return moment + DAY if is_end else moment
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            _(
                "${name} must be a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:MM:SSZ)",
                mapping={"name": name},
            ),
            name,
        ) from None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def parse_period(params, now: dt.datetime) -> Period:
    """The period from query parameters ``period`` (24h, 7d, 30d, custom), ``from``, ``to``.

    Bad input raises :class:`InvalidInput` (422) naming the parameter.
    """
    preset = (params.get("period") or "").strip() or (
        "custom" if params.get("from") or params.get("to") else DEFAULT_PRESET
    )
    if preset not in PERIOD_CHOICES:
        raise InvalidInput(
            _("period must be one of ${choices}", mapping={"choices": ", ".join(PERIOD_CHOICES)}),
            "period",
        )
    latest = floor_time(now, BUCKET)
    if preset in PRESETS:
        return Period(latest - PRESETS[preset], latest, preset)
    raw_from, raw_to = (params.get("from") or "").strip(), (params.get("to") or "").strip()
    if not raw_from:
        raise InvalidInput(_("from is required for a custom period"), "from")
    start = floor_time(_parse_moment(raw_from, "from", is_end=False), BUCKET)
    end = floor_time(_parse_moment(raw_to, "to", is_end=True), BUCKET) if raw_to else latest
    if end <= start:
        raise InvalidInput(_("from must be before to"), "from")
    if end - start > MAX_SPAN:
        raise InvalidInput(_("the period can be at most 366 days"), "to")
    end = min(end, latest)
    if end <= start:
        raise InvalidInput(_("the period has not started yet"), "from")
    return Period(start, end, "custom")
