"""Power prices and curtailment plans: the rules shared by the page and the API.

A batch of prices is written whole or not at all: every row is checked first, and the first
bad one is reported by its index (``rows[3].price_per_mwh``) before anything is added.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation

import sqlalchemy as sa
from pyramid.i18n import TranslationStringFactory
from sqlalchemy.exc import IntegrityError

from hashinsight_core.exceptions import Conflict, InvalidInput
from plugins.curtailment.models import PRICE_PLACES, EnergyPrice
from plugins.curtailment.rules import HOUR, HourlyPrice, plan_curtailment
from plugins.curtailment.schemas import MAX_BATCH
from plugins.hosting.models import Site

_ = TranslationStringFactory("hashinsight")

MAX_ABS_PRICE = Decimal(100_000)  # per MWh; several times any market's cap, catches $/kWh mix-ups
MAX_BREAKEVEN = Decimal(100_000)
MAX_LOAD_MW = 10_000  # 10 GW, far above any farm
MAX_WINDOW = dt.timedelta(days=366)
CENTS = Decimal("0.01")
CURRENCY = re.compile(r"^[A-Z]{3}$")
SOURCE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
PLAN_CURRENCY = "USD"


def at(problem, where: str):
    """``problem`` (``_("${where}: …")``) as the message about the value at ``where`` (a field,
    ``rows[3].price_per_mwh``…): one sentence to translate, whatever names the place."""
    return _(problem, mapping={**(problem.mapping or {}), "where": where})


class BadValue(ValueError):
    """A value that cannot be read. ``message`` is ``_("${where}: …")``: see :func:`at`;
    ``str()`` is the English text without the place."""

    def __init__(self, message):
        self.message = message
        super().__init__(message.interpolate().removeprefix("${where}: "))


class RowError(InvalidInput):
    """A bad value in one row of a batch (422). ``problem`` is ``_("${where}: …")``."""

    def __init__(self, index: int, name: str, problem):
        self.index, self.name, self.problem = index, name, problem
        super().__init__(at(problem, f"rows[{index}].{name}"), f"rows[{index}].{name}")


class RowConflict(Conflict):
    """A row for an hour that already has a price (409). ``problem`` as in :class:`RowError`."""

    def __init__(self, index: int, name: str, problem):
        self.index, self.name, self.problem = index, name, problem
        super().__init__(at(problem, f"rows[{index}].{name}"), f"rows[{index}].{name}")


def iso(value: dt.datetime) -> str:
    return value.isoformat() + "Z"


def money(value: Decimal) -> str:
    return str(value.quantize(CENTS, ROUND_HALF_UP))


def parse_instant(value, *, require_zone: bool) -> dt.datetime:
    """An ISO 8601 time as a naive UTC datetime; ``ValueError`` says what is wrong.

    With ``require_zone`` the text must carry its offset (``Z`` or ``+05:00``): a price stored
    at the wrong hour is worse than one refused. Otherwise a time without one is UTC.
    """
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        if text[-1] in "zZ":
            text = text[:-1] + "+00:00"
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise BadValue(
                _(
                    "${where}: ${value} is not a date and time like 2026-03-01T14:00:00Z",
                    mapping={"value": repr(value)},
                )
            ) from None
    else:
        raise BadValue(_("${where}: a date and time like 2026-03-01T14:00:00Z is needed"))
    if parsed.tzinfo is None:
        if require_zone:
            raise BadValue(
                _(
                    "${where}: ${value} needs a time zone, like 2026-03-01T14:00:00Z or +05:00",
                    mapping={"value": repr(value)},
                )
            )
    else:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    if not 2000 <= parsed.year <= 2100:
        raise BadValue(
            _(
                "${where}: ${value} is not between the years 2000 and 2100",
                mapping={"value": repr(value)},
            )
        )
    return parsed


def _not_a_number(value) -> BadValue:
    return BadValue(_("${where}: ${value} is not a number", mapping={"value": repr(value)}))


def parse_decimal(value, *, low: Decimal, high: Decimal) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise _not_a_number(value)
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise _not_a_number(value) from None
    if not number.is_finite():
        raise _not_a_number(value)
    if not low <= number <= high:
        raise BadValue(
            _("${where}: must be between ${low} and ${high}", mapping={"low": low, "high": high})
        )
    return number


def _clean_row(index: int, row: dict) -> dict:
    if not isinstance(row, dict):
        raise RowError(index, "row", _("${where}: must be an object"))
    site_id = row.get("site_id")
    if isinstance(site_id, bool) or not isinstance(site_id, int):
        raise RowError(index, "site_id", _("${where}: must be a whole number"))
    try:
        starts_at = parse_instant(row.get("starts_at"), require_zone=True)
    except BadValue as error:
        raise RowError(index, "starts_at", error.message) from None
    if starts_at.minute or starts_at.second or starts_at.microsecond:
        raise RowError(
            index,
            "starts_at",
            _("${where}: must be the start of an hour (minutes and seconds 0)"),
        )
    try:
        # Rounded to the column's 4 places: a ten-thousandth of a dollar per MWh.
        price = parse_decimal(row.get("price_per_mwh"), low=-MAX_ABS_PRICE, high=MAX_ABS_PRICE)
    except BadValue as error:
        raise RowError(index, "price_per_mwh", error.message) from None
    price = price.quantize(PRICE_PLACES, ROUND_HALF_EVEN)
    currency = row.get("currency", PLAN_CURRENCY)
    currency = currency.strip().upper() if isinstance(currency, str) else currency
    if not isinstance(currency, str) or not CURRENCY.match(currency):
        raise RowError(
            index,
            "currency",
            _(
                "${where}: ${value} is not a 3-letter currency code like USD",
                mapping={"value": repr(currency)},
            ),
        )
    source = row.get("source", "manual")
    source = source.strip().lower() if isinstance(source, str) else source
    if not isinstance(source, str) or not SOURCE.match(source):
        raise RowError(
            index,
            "source",
            _("${where}: must be a short word like manual or csv (letters, digits, _ . -)"),
        )
    return {
        "site_id": site_id,
        "starts_at": starts_at,
        "price_per_mwh": price,
        "currency": currency,
        "source": source,
    }


def add_prices(request, rows: list) -> list[EnergyPrice]:
    """Check every row, then write them all; nothing is written if any row is refused."""
    if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_BATCH:
        raise InvalidInput(
            _("rows must hold 1 to ${most} prices", mapping={"most": MAX_BATCH}), "rows"
        )
    clean = [_clean_row(index, row) for index, row in enumerate(rows)]
    dbsession = request.dbsession

    site_ids = {row["site_id"] for row in clean}
    known = set(dbsession.scalars(sa.select(Site.id).where(Site.id.in_(site_ids))))
    for index, row in enumerate(clean):
        if row["site_id"] not in known:
            raise RowError(
                index,
                "site_id",
                _("${where}: there is no site with id ${id}", mapping={"id": row["site_id"]}),
            )

    first_index: dict[tuple[int, dt.datetime], int] = {}
    for index, row in enumerate(clean):
        key = (row["site_id"], row["starts_at"])
        if key in first_index:
            raise RowConflict(
                index,
                "starts_at",
                _(
                    "${where}: the same site and hour as rows[${other}]",
                    mapping={"other": first_index[key]},
                ),
            )
        first_index[key] = index

    for site_id in sorted(site_ids):
        hours = [row["starts_at"] for row in clean if row["site_id"] == site_id]
        taken = dbsession.scalar(
            sa.select(sa.func.min(EnergyPrice.starts_at)).where(
                EnergyPrice.site_id == site_id, EnergyPrice.starts_at.in_(hours)
            )
        )
        if taken is not None:
            index = first_index[(site_id, taken)]
            raise RowConflict(
                index,
                "starts_at",
                _(
                    "${where}: site ${site} already has a price for ${hour}",
                    mapping={"site": site_id, "hour": iso(taken)},
                ),
            )

    prices = [EnergyPrice(**row) for row in clean]
    dbsession.add_all(prices)
    try:
        dbsession.flush()
    except IntegrityError:
        # Another request added one of these hours between our check and our write.
        raise Conflict(
            _("some of these hours were just added by someone else; nothing was written"), "rows"
        ) from None
    for site_id in sorted(site_ids):
        hours = sorted(row["starts_at"] for row in clean if row["site_id"] == site_id)
        request.emit(
            "curtailment:price:create",
            site_id=site_id,
            count=len(hours),
            first=iso(hours[0]),
            last=iso(hours[-1]),
        )
    return prices


def get_site(dbsession, site_id, field: str = "site_id") -> Site:
    site = None
    if isinstance(site_id, int) and not isinstance(site_id, bool):
        site = dbsession.get(Site, site_id)
    if site is None:
        raise InvalidInput(_("there is no site with id ${id}", mapping={"id": site_id}), field)
    return site


def parse_bound(value, field: str) -> dt.datetime | None:
    if value is None or value == "":
        return None
    try:
        return parse_instant(value, require_zone=False)
    except BadValue as error:
        raise InvalidInput(at(error.message, field), field) from None


def price_query(dbsession, site_id: int, start=None, end=None) -> sa.Select:
    """A site's prices in [start, end), oldest first (one per hour, so pages never overlap)."""
    get_site(dbsession, site_id)
    start, end = parse_bound(start, "from"), parse_bound(end, "to")
    if start is not None and end is not None and start >= end:
        raise InvalidInput(_("from must be before to"), "to")
    query = sa.select(EnergyPrice).where(EnergyPrice.site_id == site_id)
    if start is not None:
        query = query.where(EnergyPrice.starts_at >= start)
    if end is not None:
        query = query.where(EnergyPrice.starts_at < end)
    return query.order_by(EnergyPrice.starts_at)


def list_prices(dbsession, site_id: int, start: dt.datetime, end: dt.datetime) -> list[EnergyPrice]:
    """Every price of :func:`price_query`, for the page (whose window is a few weeks at most)."""
    return list(dbsession.scalars(price_query(dbsession, site_id, start, end)))


def hours_between(start: dt.datetime, end: dt.datetime) -> int:
    """How many hours start in [start, end) (hours start on the hour)."""
    first = start.replace(minute=0, second=0, microsecond=0)
    if first < start:
        first += HOUR
    return max(0, math.ceil((end - first) / HOUR))


def make_plan(request, site_id, breakeven, start, end, load_mw=None) -> dict:
    """Which priced hours of [start, end) to curtail at a site, and the estimated saving."""
    dbsession = request.dbsession
    site = get_site(dbsession, site_id)
    try:
        breakeven = parse_decimal(breakeven, low=Decimal(0), high=MAX_BREAKEVEN)
    except BadValue as error:
        field = "breakeven_usd_per_mwh"
        raise InvalidInput(at(error.message, field), field) from None
    if load_mw is None or load_mw == "":
        if site.capacity_kw <= 0:
            raise InvalidInput(
                _(
                    "load_mw is needed: site '${site}' has no power capacity set",
                    mapping={"site": site.name},
                ),
                "load_mw",
            )
        load = Decimal(str(site.capacity_kw)) / 1000
    else:
        try:
            load = parse_decimal(load_mw, low=Decimal(0), high=Decimal(MAX_LOAD_MW))
        except BadValue as error:
            raise InvalidInput(at(error.message, "load_mw"), "load_mw") from None
        if load == 0:
            raise InvalidInput(_("load_mw must be above 0"), "load_mw")
    start, end = parse_bound(start, "from"), parse_bound(end, "to")
    if start is None or end is None:
        raise InvalidInput(_("from and to are both needed"), "from" if start is None else "to")
    if start >= end:
        raise InvalidInput(_("from must be before to"), "to")
    if end - start > MAX_WINDOW:
        raise InvalidInput(_("the window can be at most 366 days"), "to")

    prices = list(
        dbsession.scalars(
            sa.select(EnergyPrice)
            .where(
                EnergyPrice.site_id == site.id,
                EnergyPrice.starts_at >= start,
                EnergyPrice.starts_at < end,
            )
            .order_by(EnergyPrice.starts_at)
        )
    )
    other = sorted({p.currency for p in prices} - {PLAN_CURRENCY})
    if other:
        raise InvalidInput(
            _(
                "prices for this site in that window are in ${other}; the breakeven is "
                "in ${currency}, so the plan needs ${currency} prices",
                mapping={"other": ", ".join(other), "currency": PLAN_CURRENCY},
            ),
            "site_id",
        )
    plan = plan_curtailment(
        [HourlyPrice(p.starts_at, Decimal(p.price_per_mwh)) for p in prices], breakeven, load
    )
    return {
        "site_id": site.id,
        "from": iso(start),
        "to": iso(end),
        "currency": PLAN_CURRENCY,
        "breakeven_usd_per_mwh": str(breakeven.quantize(PRICE_PLACES, ROUND_HALF_UP)),
        "load_mw": float(load),
        "hours_in_window": hours_between(start, end),
        "hours_priced": plan.hours_priced,
        "hours_to_curtail": plan.hours_to_curtail,
        "curtail_hours": [
            {
                "starts_at": iso(hour.starts_at),
                "price_per_mwh": str(hour.price_per_mwh.quantize(PRICE_PLACES)),
                "saving_usd": money(hour.saving),
            }
            for hour in plan.curtailed
        ],
        "energy_avoided_mwh": float(plan.energy_mwh),
        "energy_cost_avoided_usd": money(plan.energy_cost),
        "revenue_forgone_usd": money(plan.revenue_forgone),
        "estimated_saving_usd": money(plan.saving),
    }


def rows_from_csv(text: str, site_id: int, currency: str = PLAN_CURRENCY) -> tuple[list, list]:
    """Pasted ``starts_at,price_per_mwh`` lines -> (rows for :func:`add_prices`, line numbers).

    A first line starting with ``starts_at`` is a header and skipped, as are blank lines.
    """
    import csv
    import io

    rows, lines = [], []
    for number, cells in enumerate(csv.reader(io.StringIO(text or "")), start=1):
        cells = [cell.strip() for cell in cells]
        if not any(cells):
            continue
        if not rows and cells[0].lower() == "starts_at":
            continue
        if len(cells) != 2:
            raise InvalidInput(
                _(
                    "line ${number}: expected 2 values, starts_at,price_per_mwh",
                    mapping={"number": number},
                ),
                "csv",
            )
        rows.append(
            {
                "site_id": site_id,
                "starts_at": cells[0],
                "price_per_mwh": cells[1],
                "currency": currency,
                "source": "csv",
            }
        )
        lines.append(number)
        if len(rows) > MAX_BATCH:
            raise InvalidInput(
                _("at most ${most} prices at a time", mapping={"most": MAX_BATCH}), "csv"
            )
    if not rows:
        raise InvalidInput(_("paste at least one line: starts_at,price_per_mwh"), "csv")

    return rows, lines
