"""The farm's rules: sites, zones, racks, miners, their lifecycle and history.

Shared by the pages, the JSON API, the importer and the receiver. Queries go through the
request's session, so the account's ABAC limits (``hashinsight_core.scoping``) apply: a zone
an operator may not reach is "no such zone" here too. Uniqueness checks are the exception —
a serial is unique across the whole farm, so they look past the limits (answering only
"taken", never whose).
"""

from __future__ import annotations

import ipaddress
import math
import re
import zoneinfo

import sqlalchemy as sa
from pyramid.i18n import TranslationStringFactory
from sqlalchemy.orm import selectinload

from hashinsight_core.db import utcnow
from hashinsight_core.exceptions import Conflict, DomainError, InvalidInput
from hashinsight_core.models import Customer, Membership
from plugins.hosting.models import (
    MINER_STATUSES,
    RECEIVED,
    TRANSITIONS,
    UNASSIGNED,
    Miner,
    MinerEvent,
    Rack,
    Site,
    Zone,
)

_ = TranslationStringFactory("hashinsight")

MAX_CAPACITY_KW = 2_000_000  # 2 GW: far above any single site; catches unit mistakes (W vs kW)
MAX_NOMINAL_THS = 10_000  # 10 PH/s in one box is not a miner, it is a typo
MAX_NOMINAL_W = 100_000
MAX_RACK_SIZE = 200
UNSCOPED = {"unscoped": True}


class BatchInvalid(DomainError):
    """A batch with bad rows: nothing was stored; ``details`` names each row and column."""

    status = 422
    code = "invalid_rows"

    def __init__(self, errors: list[dict]):
        super().__init__(self.summary(errors, _english))
        self.errors = errors

    @staticmethod
    def summary(errors: list[dict], translate):
        """The first rows' problems in one sentence; ``translate`` turns each row's message
        (a translation string) into text first, so the sentence reads in one language."""
        shown = errors[:5]
        parts = [
            translate(
                _(
                    "row ${row}, ${column}: ${problem}",
                    mapping={
                        "row": e["row"],
                        "column": e["column"],
                        "problem": translate(e["message"]),
                    },
                )
            )
            for e in shown
        ]
        more = ""
        if len(errors) > len(shown):
            more = " " + translate(
                _("(and ${count} more)", mapping={"count": len(errors) - len(shown)})
            )
        return _(
            "${count} problem(s), nothing was saved: ${problems}${more}",
            mapping={"count": len(errors), "problems": "; ".join(parts), "more": more},
        )

    def translated(self, request) -> tuple[str, list[dict]]:
        """The message and each row's problem as text in the request's language."""
        translate = request.localizer.translate
        rows = [{**e, "message": translate(e["message"])} for e in self.errors]
        return translate(self.summary(self.errors, translate)), rows


def _english(message) -> str:
    """A translation string's English text with its values filled in (a str stays as is)."""
    return message.interpolate() if hasattr(message, "interpolate") else str(message)


def _problem(field: str | None, plain, named, **values):
    """A parser's complaint: ``plain`` ("must be a number") for a spreadsheet cell, whose
    column is shown beside it, or ``named`` ("capacity_kw must be a number") for a field."""
    if field:
        return named % {"field": field, **values}
    return plain % values


# --- small parsers ---------------------------------------------------------------------------

_MAC_HEX = re.compile(r"^[0-9a-f]{12}$")


def normalize_mac(value) -> str | None:
    """``AA-BB-CC-DD-EE-FF``, ``aabb.ccdd.eeff`` … -> ``aa:bb:cc:dd:ee:ff``; '' -> None."""
    if value is None:
        return None
    text = re.sub(r"[\s:.\-]", "", str(value)).lower()
    if not text:
        return None
    if not _MAC_HEX.match(text):
        raise ValueError(
            _("'${value}' is not a MAC address (12 hex digits)", mapping={"value": value})
        )
    return ":".join(text[i : i + 2] for i in range(0, 12, 2))


def normalize_serial(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip().upper()
    if not text:
        return None
    if len(text) > 64 or not re.fullmatch(r"[A-Z0-9][A-Z0-9._/\-]*", text):
        raise ValueError(
            _(
                "'${value}' is not a serial number (letters, digits, . _ / -)",
                mapping={"value": value},
            )
        )
    return text


def _number(value, column: str, low: float, high: float) -> float | None:
    """``column`` (when given) starts the complaint: "capacity_kw must be a number"."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(_problem(column, _("must be a number"), _("${field} must be a number")))
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(
            _problem(
                column,
                _("'${value}' is not a number"),
                _("${field} '${value}' is not a number"),
                value=value,
            )
        ) from None
    if not math.isfinite(number) or not low <= number <= high:
        raise ValueError(
            _problem(
                column,
                _("must be between ${low} and ${high}"),
                _("${field} must be between ${low} and ${high}"),
                low=format(low, "g"),
                high=format(high, "g"),
            )
        )
    return number


def _integer(value, low: int, high: int, column: str = "") -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(
            _problem(column, _("must be a whole number"), _("${field} must be a whole number"))
        )
    if isinstance(value, float):
        if not value.is_integer():
            value = format(value, "g")
        else:
            value = int(value)
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError(
            _problem(
                column,
                _("'${value}' is not a whole number"),
                _("${field} '${value}' is not a whole number"),
                value=value,
            )
        ) from None
    if not low <= number <= high:
        raise ValueError(
            _problem(
                column,
                _("must be between ${low} and ${high}"),
                _("${field} must be between ${low} and ${high}"),
                low=low,
                high=high,
            )
        )
    return number


def _ip(value) -> str | None:
    """A miner's IPv4/IPv6 address in its usual spelling, or None when not given."""
    if value in (None, ""):
        return None
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise ValueError(_("'${value}' is not an IP address", mapping={"value": value})) from None


def _text(value, limit: int) -> str:
    text = "" if value is None else str(value).strip()
    if len(text) > limit:
        raise ValueError(_("at most ${limit} characters", mapping={"limit": limit}))
    return text


# --- sites, zones, racks ---------------------------------------------------------------------


def site_query() -> sa.Select:
    """Every site the account sees, by name (names are unique, so pages never overlap)."""
    return sa.select(Site).order_by(Site.name)


def list_sites(dbsession) -> list[Site]:
    return list(dbsession.scalars(site_query()))


def _site_fields(name, timezone, capacity_kw, location, tariff_per_kwh, tariff_currency):
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput(_("name must be 1 to 200 characters"), "name")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            _(
                "'${timezone}' is not a time zone (try Asia/Almaty or UTC)",
                mapping={"timezone": timezone},
            ),
            "timezone",
        ) from None
    try:
        capacity_kw = float(capacity_kw)
    except (TypeError, ValueError):
        raise InvalidInput(_("capacity_kw must be a number"), "capacity_kw") from None
    if not 0 <= capacity_kw <= MAX_CAPACITY_KW:
        raise InvalidInput(
            _("capacity_kw must be between 0 and ${high}", mapping={"high": MAX_CAPACITY_KW}),
            "capacity_kw",
        )
    location = (location or "").strip() or None
    if location and len(location) > 200:
        raise InvalidInput(_("location must be at most 200 characters"), "location")
    if tariff_per_kwh in ("", None):
        tariff_per_kwh = None
    else:
        try:
            tariff_per_kwh = _number(tariff_per_kwh, "tariff_per_kwh", 0, 10)
        except ValueError as error:
            raise InvalidInput(error.args[0], "tariff_per_kwh") from None
    currency = (tariff_currency or "USD").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise InvalidInput(_("tariff_currency must be a 3-letter code like USD"), "tariff_currency")
    return name, timezone, capacity_kw, location, tariff_per_kwh, currency


def create_site(
    request,
    name: str,
    timezone: str = "UTC",
    capacity_kw: float = 0.0,
    location: str | None = None,
    tariff_per_kwh: float | None = None,
    tariff_currency: str = "USD",
) -> Site:
    name, timezone, capacity_kw, location, tariff, currency = _site_fields(
        name, timezone, capacity_kw, location, tariff_per_kwh, tariff_currency
    )
    dbsession = request.dbsession
    taken = sa.select(Site.id).where(Site.name == name).execution_options(**UNSCOPED)
    if dbsession.scalar(taken) is not None:
        raise Conflict(_("a site named '${name}' already exists", mapping={"name": name}), "name")
    site = Site(
        name=name,
        timezone=timezone,
        capacity_kw=capacity_kw,
        location=location,
        tariff_per_kwh=tariff,
        tariff_currency=currency,
    )
    dbsession.add(site)
    dbsession.flush()
    request.emit("hosting:site:create", site_id=site.id)
    request.audit("hosting:site:create", subject=("site", site.id), payload={"name": name})
    return site


def delete_site(request, site: Site) -> None:
    """Delete an empty site (no miners); its zones, racks, devices and memberships go too."""
    dbsession = request.dbsession
    count = sa.select(sa.func.count()).where(Miner.site_id == site.id)
    if dbsession.scalar(count.execution_options(**UNSCOPED)):
        raise Conflict(_("the site still has miners; move or delete them first"))
    dbsession.execute(sa.delete(Membership).where(Membership.site_id == site.id))
    site_id, name = site.id, site.name
    dbsession.delete(site)
    dbsession.flush()
    request.audit("hosting:site:delete", subject=("site", site_id), payload={"name": name})


def zone_query(site_id: int | None = None) -> sa.Select:
    query = sa.select(Zone).order_by(Zone.site_id, Zone.name)
    if site_id is not None:
        query = query.where(Zone.site_id == site_id)
    return query


def create_zone(request, site: Site, name: str, capacity_kw=0.0) -> Zone:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput(_("name must be 1 to 100 characters"), "name")
    try:
        capacity = _number(capacity_kw if capacity_kw != "" else 0, "capacity_kw", 0, 2_000_000)
    except ValueError as error:
        raise InvalidInput(error.args[0], "capacity_kw") from None
    dbsession = request.dbsession
    taken = sa.select(Zone.id).where(Zone.site_id == site.id, Zone.name == name)
    if dbsession.scalar(taken.execution_options(**UNSCOPED)) is not None:
        raise Conflict(
            _("the site already has a zone named '${name}'", mapping={"name": name}), "name"
        )
    zone = Zone(site_id=site.id, name=name, capacity_kw=capacity or 0.0)
    dbsession.add(zone)
    dbsession.flush()
    request.audit(
        "hosting:zone:create", subject=("zone", zone.id), payload={"site": site.id, "name": name}
    )
    return zone


def delete_zone(request, zone: Zone) -> None:
    dbsession = request.dbsession
    count = sa.select(sa.func.count()).where(Miner.zone_id == zone.id)
    if dbsession.scalar(count.execution_options(**UNSCOPED)):
        raise Conflict(_("the zone still has miners; move or delete them first"))
    dbsession.execute(sa.delete(Membership).where(Membership.zone_id == zone.id))
    zone_id, name = zone.id, zone.name
    dbsession.delete(zone)
    dbsession.flush()
    request.audit("hosting:zone:delete", subject=("zone", zone_id), payload={"name": name})


def create_rack(request, zone: Zone, name: str, rows=1, slots=1) -> Rack:
    name = (name or "").strip()
    if not name or len(name) > 50:
        raise InvalidInput(_("name must be 1 to 50 characters"), "name")
    try:
        rows = _integer(rows, 1, MAX_RACK_SIZE, "rows/slots") or 1
        slots = _integer(slots, 1, MAX_RACK_SIZE, "rows/slots") or 1
    except ValueError as error:
        raise InvalidInput(error.args[0], "rows") from None
    dbsession = request.dbsession
    taken = sa.select(Rack.id).where(Rack.zone_id == zone.id, Rack.name == name)
    if dbsession.scalar(taken.execution_options(**UNSCOPED)) is not None:
        raise Conflict(
            _("the zone already has a rack named '${name}'", mapping={"name": name}), "name"
        )
    rack = Rack(site_id=zone.site_id, zone_id=zone.id, name=name, rows=rows, slots=slots)
    dbsession.add(rack)
    dbsession.flush()
    request.audit("hosting:rack:create", subject=("rack", rack.id), payload={"name": name})
    return rack


# --- the calculator's catalogue (optional) --------------------------------------------------

_CATALOGUE = sa.table(
    "calculator_asic_models",
    sa.column("id", sa.Integer),
    sa.column("vendor", sa.String),
    sa.column("model", sa.String),
    sa.column("hashrate_ths", sa.Float),
    sa.column("power_w", sa.Float),
)


def catalogue_models(request, ids) -> dict[int, tuple[str, float, float]]:
    """id -> (name, TH/s, W) from the calculator's catalogue; {} when it is not enabled."""
    ids = sorted({i for i in ids if i is not None})
    enabled = {p.name for p in request.registry.get("enabled_plugins", ())}
    if not ids or "calculator" not in enabled:
        return {}
    rows = request.dbsession.execute(
        sa.select(
            _CATALOGUE.c.id,
            _CATALOGUE.c.vendor,
            _CATALOGUE.c.model,
            _CATALOGUE.c.hashrate_ths,
            _CATALOGUE.c.power_w,
        ).where(_CATALOGUE.c.id.in_(ids))
    )
    return {r.id: (f"{r.vendor} {r.model}".strip(), r.hashrate_ths, r.power_w) for r in rows}


# --- miners: validation shared by one and many ------------------------------------------------

MINER_COLUMNS = (
    "serial",
    "mac",
    "asic_model_id",
    "model",
    "nominal_ths",
    "nominal_w",
    "firmware",
    "customer_id",
    "customer",
    "zone_id",
    "site",
    "zone",
    "rack",
    "row",
    "slot",
    "pool_url",
    "pool_worker",
    "ip",
    "status",
)
NEW_MINER_STATUSES = (RECEIVED, "installed", "online", "offline", "maintenance")


class Lookups:
    """Everything a batch refers to, loaded in a few queries (never one per row)."""

    def __init__(self, request, rows: list[dict]):
        rows = [r for r in rows if isinstance(r, dict)]
        db = request.dbsession
        self.request = request
        zone_ids = {_maybe_int(r.get("zone_id")) for r in rows} - {None}
        site_names = {str(r.get("site") or "").strip() for r in rows} - {""}
        self.zones: dict[int, Zone] = {}
        self.zones_by_name: dict[tuple[str, str], Zone] = {}
        if zone_ids:
            for zone in db.scalars(sa.select(Zone).where(Zone.id.in_(zone_ids))):
                self.zones[zone.id] = zone
        if site_names:
            query = (
                sa.select(Zone, Site.name)
                .join(Site, Site.id == Zone.site_id)
                .where(sa.or_(Site.name.in_(site_names), Site.id.in_(_ints(site_names))))
            )
            for zone, site_name in db.execute(query):
                self.zones[zone.id] = zone
                self.zones_by_name[(site_name.lower(), zone.name.lower())] = zone
                self.zones_by_name[(str(zone.site_id), zone.name.lower())] = zone
        customer_ids = {_maybe_int(r.get("customer_id")) for r in rows} - {None}
        customer_names = {str(r.get("customer") or "").strip() for r in rows} - {""}
        self.customers: dict[int, Customer] = {}
        self.customers_by_name: dict[str, Customer] = {}
        if customer_ids or customer_names:
            query = sa.select(Customer).where(
                sa.or_(Customer.id.in_(customer_ids), Customer.name.in_(customer_names))
            )
            for customer in db.scalars(query):
                self.customers[customer.id] = customer
                self.customers_by_name[customer.name.lower()] = customer
        zone_keys = set(self.zones)
        self.racks: dict[tuple[int, str], Rack] = {}
        if zone_keys and any(r.get("rack") not in (None, "") for r in rows):
            for rack in db.scalars(sa.select(Rack).where(Rack.zone_id.in_(zone_keys))):
                self.racks[(rack.zone_id, rack.name.lower())] = rack
                self.racks[(rack.zone_id, str(rack.id))] = rack
        self.catalogue = catalogue_models(
            request, [_maybe_int(r.get("asic_model_id")) for r in rows]
        )
        # Miner addresses are stored only at sites that keep them masked (not encrypted).
        self.site_modes: dict[int, str] = {}
        if any(r.get("ip") not in (None, "") for r in rows):
            site_ids = {zone.site_id for zone in self.zones.values()}
            self.site_modes = dict(
                db.execute(
                    sa.select(Site.id, Site.credential_mode).where(Site.id.in_(site_ids))
                ).all()
            )


def _maybe_int(value) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


def _ints(texts) -> list[int]:
    return [n for n in (_maybe_int(t) for t in texts) if n is not None]


def validate_miner(row: dict, lookups: Lookups, errors: list[tuple[str, str]]) -> dict | None:
    """One row (JSON object or spreadsheet row) -> the Miner's column values.

    Problems are appended to ``errors`` as (column, message: a translation string); the
    values are returned anyway, so a batch can also report a bad row's duplicates.
    """
    values: dict = {}

    def check(column, func):
        try:
            return func()
        except ValueError as error:
            errors.append((column, error.args[0]))
            return None

    unknown = sorted(set(row) - set(MINER_COLUMNS))
    for column in unknown:
        errors.append((column, _("unknown column")))
    values["serial"] = check("serial", lambda: normalize_serial(row.get("serial")))
    if values["serial"] is None and not any(c == "serial" for c, _m in errors):
        errors.append(("serial", _("a serial number is required")))
    values["mac"] = check("mac", lambda: normalize_mac(row.get("mac")))
    # The zone: an id, or a site (name or id) and the zone's name in it.
    zone = None
    if row.get("zone_id") not in (None, ""):
        zone = lookups.zones.get(_maybe_int(row.get("zone_id")))
        if zone is None:
            errors.append(("zone_id", _("no zone ${id}", mapping={"id": row.get("zone_id")})))
    elif row.get("site") not in (None, "") or row.get("zone") not in (None, ""):
        site, name = str(row.get("site") or "").strip(), str(row.get("zone") or "").strip()
        if not site:
            errors.append(("site", _("give the site with the zone")))
        elif not name:
            errors.append(("zone", _("give the zone's name")))
        else:
            zone = lookups.zones_by_name.get((site.lower(), name.lower()))
            if zone is None:
                errors.append(
                    (
                        "zone",
                        _(
                            "no zone '${zone}' in site '${site}'",
                            mapping={"zone": name, "site": site},
                        ),
                    )
                )
    else:
        errors.append(("zone_id", _("a zone is required (zone_id, or site and zone)")))
    if zone is not None:
        values["zone_id"], values["site_id"] = zone.id, zone.site_id
    # The owner: an id or a name; empty = the provider's own miner.
    customer = None
    if row.get("customer_id") not in (None, ""):
        customer = lookups.customers.get(_maybe_int(row.get("customer_id")))
        if customer is None:
            errors.append(
                ("customer_id", _("no customer ${id}", mapping={"id": row.get("customer_id")}))
            )
    elif row.get("customer") not in (None, ""):
        name = str(row.get("customer")).strip()
        customer = lookups.customers_by_name.get(name.lower())
        if customer is None:
            errors.append(("customer", _("no customer named '${name}'", mapping={"name": name})))
    values["customer_id"] = customer.id if customer is not None else None
    # The model: from the catalogue by id, or a free name with its figures.
    values["asic_model_id"] = check(
        "asic_model_id", lambda: _integer(row.get("asic_model_id"), 1, 2**31 - 1)
    )
    model = check("model", lambda: _text(row.get("model"), 100))
    ths = check("nominal_ths", lambda: _number(row.get("nominal_ths"), "", 0, MAX_NOMINAL_THS))
    watts = check("nominal_w", lambda: _number(row.get("nominal_w"), "", 0, MAX_NOMINAL_W))
    if values["asic_model_id"] is not None:
        found = lookups.catalogue.get(values["asic_model_id"])
        if found is None:
            errors.append(
                (
                    "asic_model_id",
                    _(
                        "no model ${id} in the catalogue",
                        mapping={"id": values["asic_model_id"]},
                    ),
                )
            )
        else:
            model = model or found[0]
            ths = ths if ths is not None else found[1]
            watts = watts if watts is not None else found[2]
    elif not model and not any(c == "model" for c, _m in errors):
        errors.append(("model", _("give a model name or a catalogue asic_model_id")))
    values["model_name"], values["nominal_ths"], values["nominal_w"] = model or "", ths, watts
    values["firmware"] = check("firmware", lambda: _text(row.get("firmware"), 100)) or ""
    values["pool_url"] = check("pool_url", lambda: _text(row.get("pool_url"), 300)) or ""
    values["pool_worker"] = check("pool_worker", lambda: _text(row.get("pool_worker"), 200)) or ""
    values["ip"] = check("ip", lambda: _ip(row.get("ip")))
    if values["ip"] and zone is not None and lookups.site_modes.get(zone.site_id) != "masked":
        errors.append(("ip", _("this site keeps miner addresses encrypted; the IP is not stored")))
    status = str(row.get("status") or RECEIVED).strip().lower()
    if status not in NEW_MINER_STATUSES:
        errors.append(
            (
                "status",
                _(
                    "'${status}' is not one of ${choices}",
                    mapping={"status": status, "choices": ", ".join(NEW_MINER_STATUSES)},
                ),
            )
        )
    values["status"] = status
    # The position: a rack of the zone and a row/slot inside it.
    values["rack_id"] = values["rack_row"] = values["rack_slot"] = None
    if row.get("rack") not in (None, ""):
        rack = None
        if zone is not None:
            rack = lookups.racks.get((zone.id, str(row.get("rack")).strip().lower()))
            if rack is None:
                errors.append(
                    (
                        "rack",
                        _(
                            "no rack '${rack}' in zone '${zone}'",
                            mapping={"rack": row.get("rack"), "zone": zone.name},
                        ),
                    )
                )
        rack_row = check("row", lambda: _integer(row.get("row"), 1, MAX_RACK_SIZE))
        rack_slot = check("slot", lambda: _integer(row.get("slot"), 1, MAX_RACK_SIZE))
        if rack is not None:
            if rack_row is None or rack_row > rack.rows:
                errors.append(
                    ("row", _("give a row from 1 to ${high}", mapping={"high": rack.rows}))
                )
            if rack_slot is None or rack_slot > rack.slots:
                errors.append(
                    ("slot", _("give a slot from 1 to ${high}", mapping={"high": rack.slots}))
                )
            values["rack_id"], values["rack_row"], values["rack_slot"] = (
                rack.id,
                rack_row,
                rack_slot,
            )
    elif row.get("row") not in (None, "") or row.get("slot") not in (None, ""):
        errors.append(("rack", _("a row and slot need a rack")))
    return values


def _taken(dbsession, column, values: list) -> set:
    found: set = set()
    values = [v for v in values if v]
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        query = sa.select(column).where(column.in_(chunk)).execution_options(**UNSCOPED)
        found.update(dbsession.scalars(query))
    return found


def _taken_positions(dbsession, positions: list[tuple]) -> set:
    racks = {p[0] for p in positions}
    if not racks:
        return set()
    query = (
        sa.select(Miner.rack_id, Miner.rack_row, Miner.rack_slot)
        .where(Miner.rack_id.in_(racks))
        .execution_options(**UNSCOPED)
    )
    return {tuple(r) for r in dbsession.execute(query)}


def create_miners(
    request, rows: list[dict], *, first_row: int = 1, row_numbers: list[int] | None = None
) -> list[int]:
    """Create every miner of ``rows`` or none: raises BatchInvalid naming each bad row/column.

    ``first_row`` (or ``row_numbers``, one per row) numbers the rows in the report the way
    the user sees them (a spreadsheet's first data row is 2). Returns the new ids, in order.
    """
    if not rows:
        raise InvalidInput(_("no miners given"), "miners")
    lookups = Lookups(request, rows)
    problems: list[dict] = []
    prepared: list[dict] = []
    seen: dict[str, dict] = {"serial": {}, "mac": {}, "position": {}}
    numbers = row_numbers or [first_row + i for i in range(len(rows))]
    for index, row in enumerate(rows):
        number = numbers[index]
        errors: list[tuple[str, str]] = []
        values = validate_miner(row, lookups, errors) if isinstance(row, dict) else None
        if not isinstance(row, dict):
            errors.append(("", _("each miner must be an object")))
        for column, key in (("serial", "serial"), ("mac", "mac")):
            value = values and values.get(key)
            if value:
                if value in seen[key]:
                    errors.append(
                        (
                            column,
                            _(
                                "'${value}' repeats row ${row}",
                                mapping={"value": value, "row": seen[key][value]},
                            ),
                        )
                    )
                else:
                    seen[key][value] = number
        if values and values.get("rack_id"):
            spot = (values["rack_id"], values["rack_row"], values["rack_slot"])
            if spot in seen["position"]:
                errors.append(
                    (
                        "slot",
                        _(
                            "the position repeats row ${row}",
                            mapping={"row": seen["position"][spot]},
                        ),
                    )
                )
            else:
                seen["position"][spot] = number
        problems.extend({"row": number, "column": c, "message": m} for c, m in errors)
        prepared.append(values or {})
    db = request.dbsession
    taken_serials = _taken(db, Miner.serial, [v.get("serial") for v in prepared])
    taken_macs = _taken(db, Miner.mac, [v.get("mac") for v in prepared])
    taken_spots = _taken_positions(
        db, [(v["rack_id"], v["rack_row"], v["rack_slot"]) for v in prepared if v.get("rack_id")]
    )
    for index, values in enumerate(prepared):
        number = numbers[index]
        if values.get("serial") in taken_serials:
            exists = _("'${value}' exists", mapping={"value": values["serial"]})
            problems.append({"row": number, "column": "serial", "message": exists})
        if values.get("mac") in taken_macs:
            exists = _("'${value}' exists", mapping={"value": values["mac"]})
            problems.append({"row": number, "column": "mac", "message": exists})
        if values.get("rack_id") and (
            (values["rack_id"], values["rack_row"], values["rack_slot"]) in taken_spots
        ):
            taken = _("another miner is in this position")
            problems.append({"row": number, "column": "slot", "message": taken})
    if problems:
        problems.sort(key=lambda p: p["row"])
        raise BatchInvalid(problems)
    now = utcnow()
    miners = [Miner(**values, status_changed_at=now) for values in prepared]
    db.add_all(miners)
    db.flush()
    actor_type, actor_id = _actor(request)
    db.execute(
        sa.insert(MinerEvent),
        [
            {
                "miner_id": m.id,
                "customer_id": m.customer_id,
                "site_id": m.site_id,
                "zone_id": m.zone_id,
                "at": now,
                "actor_type": actor_type,
                "actor_id": actor_id,
                "kind": "create",
                "from_value": "",
                "to_value": m.status,
                "note": "",
            }
            for m in miners
        ],
    )
    return [m.id for m in miners]


def _actor(request) -> tuple[str, str]:
    user = getattr(request, "user", None)
    return ("user", str(user.id)) if user is not None else ("system", "")


def record(request, miner: Miner, kind: str, before: str, after: str, note: str = "", actor=None):
    actor_type, actor_id = actor or _actor(request)
    request.dbsession.add(
        MinerEvent(
            miner_id=miner.id,
            customer_id=miner.customer_id,
            site_id=miner.site_id,
            zone_id=miner.zone_id,
            actor_type=actor_type,
            actor_id=actor_id,
            kind=kind,
            from_value=before[:200],
            to_value=after[:200],
            note=(note or "")[:300],
        )
    )


def change_status(request, miner: Miner, status: str, note: str = "", actor=None) -> None:
    """Move ``miner`` along its lifecycle; refuses a transition the lifecycle does not allow."""
    status = (status or "").strip().lower()
    if status not in MINER_STATUSES or status == UNASSIGNED:
        raise InvalidInput(_("'${status}' is not a status", mapping={"status": status}), "status")
    if status == miner.status:
        return
    if status not in TRANSITIONS[miner.status]:
        allowed = ", ".join(sorted(TRANSITIONS[miner.status])) or "none"
        raise InvalidInput(
            _(
                "a miner cannot go from ${before} to ${after} (allowed: ${allowed})",
                mapping={"before": miner.status, "after": status, "allowed": allowed},
            ),
            "status",
        )
    before = miner.status
    miner.status = status
    miner.status_changed_at = utcnow()
    record(request, miner, "status", before, status, note, actor)


def _place(miner: Miner) -> str:
    spot = f" {miner.rack_id}/{miner.rack_row}/{miner.rack_slot}" if miner.rack_id else ""
    return f"zone {miner.zone_id}{spot}"


def update_miner(request, miner: Miner, changes: dict) -> list[str]:
    """Apply the changes an operator made (place, owner, pool, firmware, status).

    Returns the names of what changed. Validation is the same as for a new miner.
    """
    fields = set(changes) - {"status", "note"}
    row = {
        "serial": miner.serial,
        "mac": miner.mac,
        "asic_model_id": miner.asic_model_id,
        "model": miner.model_name,
        "nominal_ths": miner.nominal_ths,
        "nominal_w": miner.nominal_w,
        "firmware": miner.firmware,
        "customer_id": miner.customer_id,
        "zone_id": miner.zone_id,
        "pool_url": miner.pool_url,
        "pool_worker": miner.pool_worker,
        "ip": miner.ip,
        "status": "received",
    }
    if miner.rack_id:
        row.update(rack=str(miner.rack_id), row=miner.rack_row, slot=miner.rack_slot)
    if "rack" in changes and changes["rack"] in (None, ""):
        row.pop("row", None), row.pop("slot", None)
    if "zone_id" in changes and "rack" not in changes:
        row.pop("rack", None), row.pop("row", None), row.pop("slot", None)
    for key in fields:
        row[key] = changes[key]
    if row.get("model") and "asic_model_id" not in changes and "model" in changes:
        row["asic_model_id"] = None
    lookups = Lookups(request, [row])
    errors: list[tuple[str, str]] = []
    values = validate_miner(row, lookups, errors)
    if errors:
        raise BatchInvalid([{"row": 1, "column": c, "message": m} for c, m in errors])
    db = request.dbsession
    for column in ("serial", "mac"):
        if values[column] and values[column] != getattr(miner, column):
            if _taken(db, getattr(Miner, column), [values[column]]):
                raise Conflict(
                    _("'${value}' belongs to another miner", mapping={"value": values[column]}),
                    column,
                )
    if values["rack_id"] and (values["rack_id"], values["rack_row"], values["rack_slot"]) != (
        miner.rack_id,
        miner.rack_row,
        miner.rack_slot,
    ):
        spot = (values["rack_id"], values["rack_row"], values["rack_slot"])
        if spot in _taken_positions(db, [spot]):
            raise Conflict(_("another miner is in this position"), "slot")
    changed = []
    before_place, before_owner = _place(miner), str(miner.customer_id or "")
    values.pop("status")
    for key, value in values.items():
        if getattr(miner, key) != value:
            setattr(miner, key, value)
            changed.append(key)
    if before_place != _place(miner):
        record(request, miner, "move", before_place, _place(miner), changes.get("note", ""))
    if before_owner != str(miner.customer_id or ""):
        record(request, miner, "owner", before_owner, str(miner.customer_id or ""))
    other = set(changed) - {"zone_id", "site_id", "rack_id", "rack_row", "rack_slot", "customer_id"}
    if other:
        record(request, miner, "edit", "", ", ".join(sorted(other)))
    if changes.get("status"):
        before = miner.status
        change_status(request, miner, changes["status"], changes.get("note", ""))
        if miner.status != before:
            changed.append("status")
    return changed


# --- listing -----------------------------------------------------------------------------------


def miner_filters(filters: dict) -> list:
    """WHERE clauses for ``filters`` (site_id, zone_id, customer_id, rack_id, status, model, q)."""
    clauses = []
    for key, column in (
        ("site_id", Miner.site_id),
        ("zone_id", Miner.zone_id),
        ("customer_id", Miner.customer_id),
        ("rack_id", Miner.rack_id),
    ):
        if filters.get(key) is not None:
            clauses.append(column == filters[key])
    if filters.get("status"):
        clauses.append(Miner.status == filters["status"])
    if filters.get("model"):
        clauses.append(Miner.model_name == filters["model"])
    text = (filters.get("q") or "").strip()
    if text:
        pattern = _like(text.upper()) + "%"
        mac = None
        try:
            mac = normalize_mac(text)
        except ValueError:
            pass
        found = [
            Miner.serial.like(pattern, escape="\\"),
            Miner.miner_key == text,
            Miner.pool_worker == text,
        ]
        if mac:
            found.append(Miner.mac == mac)
        elif re.fullmatch(r"[0-9a-fA-F:\-]{2,17}", text):
            found.append(Miner.mac.like(_like(text.lower()) + "%", escape="\\"))
        clauses.append(sa.or_(*found))
    return clauses


def miner_query(filters: dict) -> sa.Select:
    """Miners matching ``filters``, by id (stable pages)."""
    return sa.select(Miner).where(*miner_filters(filters)).order_by(Miner.id)


def count_miners(dbsession, filters: dict) -> int:
    # Counted on the table itself (not a subquery) so the scope applies to the count too.
    query = sa.select(sa.func.count(Miner.id)).where(*miner_filters(filters))
    return dbsession.scalar(query) or 0


def page_of_miners(dbsession, filters: dict, limit: int, offset: int) -> tuple[list[Miner], int]:
    total = count_miners(dbsession, filters)
    if offset >= total:
        return [], total
    query = with_places(miner_query(filters)).limit(limit).offset(offset)
    return list(dbsession.scalars(query)), total


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def with_places(query: sa.Select) -> sa.Select:
    """Load the zone, site and rack of a page of miners in three queries, not per row."""
    return query.options(
        selectinload(Miner.zone), selectinload(Miner.site), selectinload(Miner.rack)
    )


def miner_history(dbsession, miner: Miner, limit: int = 200) -> list[MinerEvent]:
    query = (
        sa.select(MinerEvent)
        .where(MinerEvent.miner_id == miner.id)
        .order_by(MinerEvent.at.desc(), MinerEvent.id.desc())
        .limit(limit)
    )
    return list(dbsession.scalars(query))


def status_counts(dbsession, filters: dict) -> dict[str, int]:
    clauses = miner_filters({**filters, "status": None})
    query = sa.select(Miner.status, sa.func.count(Miner.id)).where(*clauses).group_by(Miner.status)
    return {status: count for status, count in dbsession.execute(query).all()}
