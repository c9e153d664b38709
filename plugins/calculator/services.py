"""The calculator's rules: reading inputs from forms, JSON and files, taking market values,
running the engine, and shaping the answers of the page and the API.

Views stay thin: they hand a dict (the validated JSON body, or a form) to one of the
``run_*`` functions here. Every bad value raises :class:`InvalidInput` naming its field
(422); nothing here writes to the database.

Two layers of limits: the engine refuses what would break the arithmetic (NaN, infinity,
negative prices); the limits below also refuse what cannot be meant (a miner drawing 3.5 W
for 200 TH/s, an electricity price of 500 USD/kWh, a pool fee of 100 %).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields

import numpy as np
import sqlalchemy as sa
from pyramid.i18n import TranslationStringFactory
from sqlalchemy.orm import selectinload

from hashinsight_core.exceptions import InvalidInput
from plugins.calculator import catalogue, engine
from plugins.calculator.models import AsicModel

_ = TranslationStringFactory("hashinsight")

# --------------------------------------------------------------------------------------------
# The original single-day estimate (its page form and API keep working)

NUMBER_FIELDS = (
    "hashrate_ths",
    "power_w",
    "electricity_usd_per_kwh",
    "btc_price_usd",
    "difficulty",
    "fees_per_block_btc",
)
FIELDS = (*NUMBER_FIELDS, "block_height")
OPTIONAL = {"fees_per_block_btc": 0.0}

# "1,234,567.5" (thousands separators) is fine; "0,06" (a decimal comma) is refused rather
# than read as 6, because a price off by 100 times is worse than a question.
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


def parse_number(text: str, field: str) -> float:
    text = (text or "").strip().replace("\u00a0", "").replace(" ", "").replace("_", "")
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    if not text:
        raise InvalidInput(_("${field} is needed", mapping={"field": field}), field)
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(
            _("${field} must be a number (use a dot for decimals)", mapping={"field": field}),
            field,
        ) from None


# The old form's first-visit numbers (tests/unit/plugins/calculator/test_services.py reads
# them); the page now starts from the market service and a catalogue model instead.
EXAMPLE_INPUT = {
    "hashrate_ths": "200",
    "power_w": "3500",
    "electricity_usd_per_kwh": "0.06",
    "btc_price_usd": "100000",
    "difficulty": "1.5e14",
    "fees_per_block_btc": "0.02",
    "block_height": "925000",
}


def parse_form(form: Mapping[str, str]) -> dict:
    """Form strings -> numbers for :func:`estimate`; a missing optional field is its default."""
    values: dict = {}
    for name in FIELDS:
        text = (form.get(name) or "").strip()
        if not text and name in OPTIONAL:
            values[name] = OPTIONAL[name]
            continue
        number = parse_number(text, name)
        if name == "block_height" and number.is_integer():
            number = int(number)  # anything else is left for the engine to refuse
        values[name] = number
    return values


def form_from_query(params: Mapping[str, str], models) -> tuple[dict, bool]:
    """The old form's values for a GET: the examples on a first visit, else what was sent."""
    if not any(name in params for name in (*FIELDS, "preset")):
        return dict(EXAMPLE_INPUT, preset=""), True
    form = {name: (params.get(name) or "").strip() for name in FIELDS}
    form["preset"] = (params.get("preset") or "").strip()
    return form, False


def estimate(values: Mapping) -> dict:
    """Run the engine on ``values`` (numbers keyed by FIELDS); the figures as a JSON dict."""
    data = {field: values[field] for field in FIELDS if field in values}
    for field_name, default in OPTIONAL.items():
        data.setdefault(field_name, default)
    missing = [name for name in FIELDS if name not in data]
    if missing:
        raise InvalidInput(_("${field} is needed", mapping={"field": missing[0]}), missing[0])
    try:
        result = engine.estimate(**data)
    except engine.InputError as error:
        raise InvalidInput(error.message, error.field) from None
    return {"input": data, "days_per_month": engine.DAYS_PER_MONTH, **result.as_dict()}


# --------------------------------------------------------------------------------------------
# Limits of what a person can mean


@dataclass(frozen=True)
class Limit:
    minimum: float
    maximum: float
    above_minimum: bool = False  # the minimum itself is refused (a price of 0)
    whole: bool = False
    unit: str = ""


# Inputs shared by every miner of a request.
COMMON = {
    "electricity_usd_per_kwh": Limit(0, 10, unit="USD/kWh"),
    "pue": Limit(1, 5),
    "uptime": Limit(0, 1, above_minimum=True),
    "curtailment_hours_per_day": Limit(0, 24),
    "pool_fee": Limit(0, 0.99),
    "dev_fee": Limit(0, 0.99),
    "hosting_usd_per_miner_month": Limit(0, 100_000, unit="USD"),
    "hosting_usd_per_kwh": Limit(0, 10, unit="USD/kWh"),
    "hosting_revenue_share": Limit(0, 0.99),
    "depreciation_months": Limit(1, 240),
}
COMMON_DEFAULTS = {
    "pue": 1.0,
    "uptime": 1.0,
    "curtailment_hours_per_day": 0.0,
    "pool_fee": 0.0,
    "dev_fee": 0.0,
    "hosting_usd_per_miner_month": 0.0,
    "hosting_usd_per_kwh": 0.0,
    "hosting_revenue_share": 0.0,
    "depreciation_months": 36.0,
}
# Per machine.
MINER = {
    "hashrate_ths": Limit(0, catalogue.MAX_HASHRATE_THS, above_minimum=True, unit="TH/s"),
    "power_w": Limit(0, catalogue.MAX_POWER_W, above_minimum=True, unit="W"),
    "idle_power_w": Limit(0, catalogue.MAX_POWER_W, unit="W"),
    "quantity": Limit(1, 1_000_000, whole=True),
    "capex_usd": Limit(0, 10_000_000, unit="USD"),
    "salvage_usd": Limit(0, 10_000_000, unit="USD"),
}
# Market values a request may give instead of the stored ones (the ranges the market
# service accepts from providers).
MARKET = {
    "btc_price_usd": Limit(1, 1e8, unit="USD"),
    "difficulty": Limit(1, 1e18),
    "block_height": Limit(0, 100_000_000, whole=True),
    "fees_per_block_btc": Limit(0, 1000, unit="BTC"),
    "network_hashrate_ths": Limit(0, 1e13, above_minimum=True, unit="TH/s"),
}
# Other ways of getting BTC a day, for the side-by-side check (never from the market
# service's own hashprice: that is computed from the same difficulty, so proves nothing).
CHECKS = {
    "hashprice_usd_per_th_day": Limit(0, 1000, above_minimum=True, unit="USD"),
    "hashprice_btc_per_th_day": Limit(0, 1, above_minimum=True, unit="BTC"),
    "realized_btc": Limit(0, 1_000_000),
    "realized_days": Limit(0, 3660, above_minimum=True),
    "realized_hashrate_ths": Limit(0, 1e13, above_minimum=True, unit="TH/s"),
    "divergence_threshold": Limit(0, 1, above_minimum=True),
}
PROJECTION = {
    "months": Limit(1, 120, whole=True),
    "hashrate_growth_per_month": Limit(-0.5, 1.0),
    "difficulty_growth_per_epoch": Limit(-0.5, 1.0),
    "price_growth_per_month": Limit(-0.5, 1.0),
    "discount_rate_annual": Limit(-0.5, 10.0),
}
PROJECTION_DEFAULTS = {
    "months": 36,
    "hashrate_growth_per_month": 0.02,
    "price_growth_per_month": 0.0,
    "discount_rate_annual": 0.1,
}
MONTE_CARLO = {
    "paths": Limit(10, 5000, whole=True),
    "seed": Limit(0, 2**63 - 1, whole=True),
    "price_drift": Limit(-5, 5),
    "price_volatility": Limit(0, 5),
    "hashrate_drift": Limit(-5, 5),
    "hashrate_volatility": Limit(0, 5),
    "correlation": Limit(-1, 1),
}
MAX_MINERS = 12  # models side by side on one page
DEFAULT_PATHS = 1000
MIN_FIT_DAYS = 120  # four 28-day steps of history at least
FIT_STEP_DAYS = 28


def to_number(value, field: str) -> float:
    """A JSON number or typed text -> a finite float (booleans and NaN are refused)."""
    return catalogue.parse_number(value, field)


def check(value, field: str, limit: Limit) -> float:
    """``value`` as a float inside ``limit``, or :class:`InvalidInput` naming ``field``."""
    number = to_number(value, field)
    unit = f" {limit.unit}" if limit.unit else ""
    if limit.above_minimum and number <= limit.minimum:
        raise InvalidInput(
            _(
                "${field} must be greater than ${minimum}${unit}",
                mapping={"field": field, "minimum": f"{limit.minimum:g}", "unit": unit},
            ),
            field,
        )
    if number < limit.minimum:
        if limit.minimum == 0:
            raise InvalidInput(_("${field} must not be negative", mapping={"field": field}), field)
        raise InvalidInput(
            _(
                "${field} must be at least ${minimum}${unit}",
                mapping={"field": field, "minimum": f"{limit.minimum:g}", "unit": unit},
            ),
            field,
        )
    if number > limit.maximum:
        raise InvalidInput(
            _(
                "${field} must be at most ${maximum}${unit}",
                mapping={"field": field, "maximum": f"{limit.maximum:,.10g}", "unit": unit},
            ),
            field,
        )
    if limit.whole and not number.is_integer():
        raise InvalidInput(_("${field} must be a whole number", mapping={"field": field}), field)
    return int(number) if limit.whole else number


def pick(data: Mapping, limits: Mapping[str, Limit], defaults: Mapping, prefix: str = ""):
    """The checked values of ``limits`` found in ``data`` (None/absent -> the default)."""
    out = {}
    for name, limit in limits.items():
        value = data.get(name)
        if value is None:
            if name in defaults:
                out[name] = defaults[name]
            continue
        out[name] = check(value, prefix + name, limit)
    return out


# --------------------------------------------------------------------------------------------
# Miners: a catalogue model (with a power mode) or custom figures


@dataclass
class Miner:
    label: str
    hashrate_ths: float
    power_w: float
    quantity: int = 1
    idle_power_w: float = 0.0
    capex_usd: float = 0.0
    salvage_usd: float = 0.0
    model_id: int | None = None
    model: str | None = None
    mode: str | None = None

    def as_dict(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["efficiency_j_per_th"] = self.power_w / self.hashrate_ths
        return data


class ModelIndex:
    """The active catalogue, found by id or by name ("Bitmain Antminer S21" or, when only
    one vendor has it, "Antminer S21"), loaded once per request."""

    def __init__(self, models: Iterable[AsicModel]):
        self.by_id: dict[int, AsicModel] = {}
        self.by_name: dict[str, AsicModel | None] = {}
        for model in models:
            self.by_id[model.id] = model
            self.by_name[_name(f"{model.vendor} {model.model}")] = model
            short = _name(model.model)
            # A bare model name two vendors share is ambiguous: None marks it.
            self.by_name[short] = None if short in self.by_name else model

    @classmethod
    def load(cls, dbsession, ids: Iterable[int] | None = None) -> ModelIndex:
        query = (
            sa.select(AsicModel)
            .options(selectinload(AsicModel.power_modes))
            .where(AsicModel.is_active.is_(True))
        )
        if ids is not None:
            ids = sorted({int(i) for i in ids})
            query = query.where(AsicModel.id.in_(ids)) if ids else query.where(sa.false())
        return cls(dbsession.scalars(query))

    def get(self, model_id=None, name=None, field: str = "model") -> AsicModel:
        if model_id is not None:
            found = self.by_id.get(model_id)
            if found is None:
                raise InvalidInput(
                    _(
                        "${field}: there is no active miner model ${id}",
                        mapping={"field": field, "id": model_id},
                    ),
                    field,
                )
            return found
        key = _name(name or "")
        if key not in self.by_name:
            raise InvalidInput(
                _(
                    "${field}: '${name}' is not in the miner catalogue (use the vendor "
                    "and model as listed, e.g. 'Bitmain Antminer S21')",
                    mapping={"field": field, "name": str(name)[:60]},
                ),
                field,
            )
        found = self.by_name[key]
        if found is None:
            raise InvalidInput(
                _(
                    "${field}: '${name}' is made by more than one vendor; add the vendor",
                    mapping={"field": field, "name": str(name)[:60]},
                ),
                field,
            )
        return found


def _name(text: str) -> str:
    return " ".join(str(text).casefold().split())


def operating_point(model: AsicModel, mode: str | None, field: str):
    """(hashrate, power, mode name) of ``model`` in ``mode`` (its default mode, else the
    nameplate, when no mode is asked for)."""
    if mode:
        for candidate in model.power_modes:
            if candidate.name.casefold() == mode.strip().casefold():
                return candidate.hashrate_ths, candidate.power_w, candidate.name
        known = ", ".join(m.name for m in model.power_modes) or "none"
        raise InvalidInput(
            _(
                "${field}: ${model} has no power mode '${mode}' (its modes: ${known})",
                mapping={
                    "field": field,
                    "model": f"{model.vendor} {model.model}",
                    "mode": mode[:40],
                    "known": known,
                },
            ),
            field,
        )
    default = next((m for m in model.power_modes if m.is_default), None)
    if default is not None:
        return default.hashrate_ths, default.power_w, default.name
    return model.hashrate_ths, model.power_w, None


def build_miner(item: Mapping, index: ModelIndex, prefix: str) -> Miner:
    """One miner from its JSON/row values, checked; the catalogue fills hashrate and power."""
    model_id, name = item.get("model_id"), item.get("model")
    values = pick(item, MINER, {}, prefix)
    mode = (item.get("mode") or "").strip() or None
    if model_id is not None or name:
        model = index.get(
            model_id, name, prefix + ("model_id" if model_id is not None else "model")
        )
        ths, watts, mode = operating_point(model, mode, prefix + "mode")
        # Figures given with a model override its catalogue values (a tuned machine).
        ths = values.get("hashrate_ths", ths)
        watts = values.get("power_w", watts)
        label = f"{model.vendor} {model.model}" + (f" ({mode})" if mode else "")
        model_id, model_name = model.id, f"{model.vendor} {model.model}"
    else:
        for needed in ("hashrate_ths", "power_w"):
            if needed not in values:
                raise InvalidInput(
                    _(
                        "${field} is needed when no catalogue model is chosen",
                        mapping={"field": prefix + needed},
                    ),
                    prefix + needed,
                )
        ths, watts, model_id, model_name, mode = (
            values["hashrate_ths"], values["power_w"], None, None, None,
        )  # fmt: skip
        label = f"{ths:g} TH/s, {watts:g} W"
    efficiency = watts / ths
    if not catalogue.MIN_J_PER_TH <= efficiency <= catalogue.MAX_J_PER_TH:
        raise InvalidInput(
            catalogue.efficiency_message(watts, ths, efficiency, prefix + "power_w"),
            prefix + "power_w",
        )
    idle = values.get("idle_power_w", 0.0)
    if idle > watts:
        raise InvalidInput(
            _(
                "${field} must not be more than the power (${power} W)",
                mapping={"field": prefix + "idle_power_w", "power": f"{watts:g}"},
            ),
            prefix + "idle_power_w",
        )
    capex = values.get("capex_usd", 0.0)
    text = item.get("label")
    if text is not None:
        label = str(text).strip()[:100] or label
    return Miner(
        label=label,
        hashrate_ths=float(ths),
        power_w=float(watts),
        quantity=int(values.get("quantity", 1)),
        idle_power_w=float(idle),
        capex_usd=float(capex),
        salvage_usd=float(values.get("salvage_usd", 0.0)),
        model_id=model_id,
        model=model_name,
        mode=mode,
    )


def build_miners(dbsession, items: list[Mapping]) -> list[Miner]:
    if not items:
        raise InvalidInput(_("miners: choose at least one miner"), "miners")
    ids = [i.get("model_id") for i in items if i.get("model_id") is not None]
    by_name = any(i.get("model") and i.get("model_id") is None for i in items)
    index = ModelIndex.load(dbsession, None if by_name else ids)
    return [build_miner(item, index, f"miners[{n}].") for n, item in enumerate(items)]


# --------------------------------------------------------------------------------------------
# Market values: from the request when given, else from the market service


@dataclass
class MarketValue:
    name: str
    value: float | None
    source: str | None = None
    as_of: dt.datetime | None = None
    age_s: int | None = None
    stale: bool = False
    overridden: bool = False  # an admin's value (the market service's override)
    from_request: bool = False  # typed by the user

    def as_dict(self) -> dict:
        return {
            "value": self.value,
            "source": self.source,
            "as_of": self.as_of.strftime("%Y-%m-%dT%H:%M:%SZ") if self.as_of else None,
            "age_s": self.age_s,
            "stale": self.stale,
            "overridden": self.overridden,
            "from_request": self.from_request,
        }


@dataclass
class Market:
    values: dict[str, MarketValue] = field(default_factory=dict)

    def __getitem__(self, name: str) -> float | None:
        return self.values[name].value

    def as_dict(self) -> dict:
        return {name: value.as_dict() for name, value in self.values.items()}


def market_from_snapshot(snapshot) -> dict[str, MarketValue]:
    """The market service's figures in the calculator's names and units."""
    sources = {
        "btc_price_usd": (snapshot.price_usd, 1.0),
        "difficulty": (snapshot.difficulty, 1.0),
        "block_height": (snapshot.block_height, 1.0),
        "fees_per_block_btc": (snapshot.fees_per_block_btc, 1.0),
        "network_hashrate_ths": (snapshot.hashrate_ehs, 1e6),
    }
    out = {}
    for name, (figure, scale) in sources.items():
        value = figure.value
        if value is not None:
            value = int(value) if name == "block_height" else float(value) * scale
        out[name] = MarketValue(
            name,
            value,
            figure.source,
            figure.as_of,
            figure.age_s,
            bool(figure.stale),
            bool(figure.overridden),
        )
    return out


def read_market(request) -> dict[str, MarketValue]:
    from hashinsight_core import market

    return market_from_snapshot(market.current(request))


def resolve_market(stored: Mapping[str, MarketValue], data: Mapping) -> Market:
    """Request values win over stored ones; a needed value missing from both is a 422."""
    given = pick(data, MARKET, {})
    values = {}
    for name in MARKET:
        if name in given:
            values[name] = MarketValue(name, given[name], "input", from_request=True)
        else:
            values[name] = stored.get(name) or MarketValue(name, None)
    for name in ("btc_price_usd", "difficulty", "block_height"):
        if values[name].value is None:
            raise InvalidInput(
                _(
                    "${field} is needed: no market value is stored yet, so please type it",
                    mapping={"field": name},
                ),
                name,
            )
    if values["fees_per_block_btc"].value is None:
        values["fees_per_block_btc"] = MarketValue(
            "fees_per_block_btc", 0.0, "default: no fee figure stored"
        )
    return Market(values)


# --------------------------------------------------------------------------------------------
# Scenarios


@dataclass
class Inputs:
    """A request, checked: its miners, shared inputs, market values and check inputs."""

    miners: list[Miner]
    common: dict
    market: Market
    checks: dict

    def scenario(self) -> engine.Scenario:
        """One scenario per miner (arrays of shape (miners,))."""

        def column(name):
            return np.array([getattr(m, name) for m in self.miners], dtype=float)

        return engine.Scenario(
            hashrate_ths=column("hashrate_ths"),
            power_w=column("power_w"),
            idle_power_w=column("idle_power_w"),
            quantity=column("quantity"),
            capex_usd=column("capex_usd"),
            salvage_usd=column("salvage_usd"),
            btc_price_usd=self.market["btc_price_usd"],
            difficulty=self.market["difficulty"],
            block_height=self.market["block_height"],
            fees_per_block_btc=self.market["fees_per_block_btc"],
            **self.common,
        )

    def single(self, n: int = 0) -> engine.Scenario:
        """Miner ``n`` alone, with scalar inputs (the Monte Carlo and tornado take one)."""
        scenario = self.scenario()
        values = {}
        for f in fields(scenario):
            value = getattr(scenario, f.name)
            values[f.name] = float(value[n]) if np.ndim(value) else value
        return engine.Scenario(**values)


def read_inputs(request, data: Mapping, stored: Mapping[str, MarketValue] | None = None):
    miners = build_miners(request.dbsession, list(data.get("miners") or []))
    common = pick(data, COMMON, COMMON_DEFAULTS)
    if "electricity_usd_per_kwh" not in common:
        raise InvalidInput(
            _("${field} is needed", mapping={"field": "electricity_usd_per_kwh"}),
            "electricity_usd_per_kwh",
        )
    if stored is None:
        stored = read_market(request)
    checks = pick(data, CHECKS, {"divergence_threshold": engine.DEFAULT_DIVERGENCE_THRESHOLD})
    return Inputs(miners, common, resolve_market(stored, data), checks)


def _engine_call(function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except engine.InputError as error:
        raise InvalidInput(error.message, error.field) from None


def _row(record: dict, n: int) -> dict:
    """Scenario ``n`` of a result dict whose values are lists over scenarios."""
    return {k: (v[n] if isinstance(v, list) else v) for k, v in record.items()}


# --------------------------------------------------------------------------------------------
# Quote: one day, every miner, with the revenue methods side by side


def revenue_check(inputs: Inputs, figures: dict, miner: Miner) -> dict:
    """The difficulty method next to every other method that has inputs, for one miner's
    hashing TH/s (after uptime and curtailment, before fees)."""
    market = inputs.market
    hashing = miner.hashrate_ths * miner.quantity * figures["hashing_hours_per_day"] / 24.0
    kwargs = {}
    network = market.values["network_hashrate_ths"]
    if network.value is not None:
        kwargs["network_hashrate_ths"] = network.value
    checks = inputs.checks
    if "hashprice_btc_per_th_day" in checks:
        kwargs["hashprice_btc_per_th_day"] = checks["hashprice_btc_per_th_day"]
    elif "hashprice_usd_per_th_day" in checks:
        kwargs["hashprice_usd_per_th_day"] = checks["hashprice_usd_per_th_day"]
        kwargs["btc_price_usd"] = market["btc_price_usd"]
    if "realized_btc" in checks:
        if "realized_days" not in checks:
            raise InvalidInput(_("realized_days is needed with realized_btc"), "realized_days")
        kwargs["realized_btc"] = checks["realized_btc"]
        kwargs["realized_days"] = checks["realized_days"]
        kwargs["realized_hashrate_ths"] = checks.get("realized_hashrate_ths")
    if hashing <= 0:
        kwargs.pop("realized_btc", None)
    result = _engine_call(
        engine.compare_revenue_methods,
        hashing,
        market["difficulty"],
        figures["block_reward_btc"],
        pool_fee=inputs.common["pool_fee"],
        threshold=checks["divergence_threshold"],
        **kwargs,
    ).as_dict()
    result["methods"].insert(
        0,
        {
            "method": "difficulty",
            "btc_per_day": result["btc_per_day_gross"],
            "basis": "gross",
            "divergence": 0.0,
            "flagged": False,
            "independent": True,
            "note": "expected_value",
        },
    )
    return result


TOTALS = (
    "btc_per_day",
    "revenue_usd_per_day",
    "power_cost_usd_per_day",
    "hosting_usd_per_day",
    "costs_usd_per_day",
    "profit_usd_per_day",
    "profit_usd_per_month",
    "energy_kwh_per_day",
)


def run_quote(request, data: Mapping, stored=None) -> dict:
    inputs = read_inputs(request, data, stored)
    figures = _engine_call(engine.quote, inputs.scenario()).as_dict()
    results = []
    for n, miner in enumerate(inputs.miners):
        row = _row(figures, n)
        results.append(
            {
                "miner": miner.as_dict(),
                "figures": row,
                "revenue_check": revenue_check(inputs, row, miner),
            }
        )
    totals = {name: float(sum(r["figures"][name] for r in results)) for name in TOTALS}
    capex = sum(m.capex_usd * m.quantity for m in inputs.miners)
    totals["capex_usd"] = capex
    totals["static_payback_days"] = (
        capex / totals["profit_usd_per_day"] if capex > 0 and totals["profit_usd_per_day"] > 0
        else None
    )  # fmt: skip
    return {
        "market": inputs.market.as_dict(),
        "inputs": inputs.common,
        "results": results,
        "totals": totals,
        "days_per_month": engine.DAYS_PER_MONTH,
    }


# --------------------------------------------------------------------------------------------
# Projection, Monte Carlo, sensitivity


def projection_settings(data: Mapping):
    from plugins.calculator.projection import ProjectionSettings

    values = pick(data, PROJECTION, PROJECTION_DEFAULTS)
    if (
        "difficulty_growth_per_epoch" in values
        and data.get("hashrate_growth_per_month") is not None
    ):
        raise InvalidInput(
            _("give hashrate_growth_per_month or difficulty_growth_per_epoch, not both"),
            "difficulty_growth_per_epoch",
        )
    switch_off = data.get("switch_off_when_unprofitable", False)
    if not isinstance(switch_off, bool):
        raise InvalidInput(_("switch_off_when_unprofitable must be true or false"), "switch_off")
    settings = ProjectionSettings(
        months=values["months"],
        hashrate_growth_per_month=values["hashrate_growth_per_month"],
        price_growth_per_month=values["price_growth_per_month"],
        difficulty_growth_per_epoch=values.get("difficulty_growth_per_epoch"),
        discount_rate_annual=values["discount_rate_annual"],
        switch_off_when_unprofitable=switch_off,
    )
    return settings, values


def _date_after_months(start: dt.date, months: float | None) -> str | None:
    if months is None or not math.isfinite(months):
        return None
    return (start + dt.timedelta(days=months * engine.DAYS_PER_MONTH)).isoformat()


PROJECTION_SERIES = (
    "cumulative_cash_flow_usd",
    "profit_usd",
    "revenue_usd",
    "power_cost_usd",
    "hosting_usd",
    "btc_mined",
    "running",
)
NETWORK_SERIES = (
    "block_height",
    "difficulty",
    "network_hashrate_ths",
    "block_subsidy_btc",
    "btc_price_usd",
    "hashprice_usd_per_th_day",
)
PROJECTION_SUMMARY = (
    "capex_usd",
    "salvage_usd",
    "total_btc",
    "total_profit_usd",
    "static_payback_months",
    "payback_months",
    "roi",
    "npv_usd",
    "irr_annual",
)


def run_projection(request, data: Mapping, stored=None, today: dt.date | None = None) -> dict:
    from plugins.calculator.projection import project

    inputs = read_inputs(request, data, stored)
    settings, values = projection_settings(data)
    result = _engine_call(project, inputs.scenario(), settings).as_dict()
    today = today or dt.date.today()
    miners = []
    for n, miner in enumerate(inputs.miners):
        miners.append(
            {
                "miner": miner.as_dict(),
                "series": {k: result[k][n] for k in PROJECTION_SERIES},
                "summary": {k: result[k][n] for k in PROJECTION_SUMMARY},
            }
        )
    halving = result["halving_month"][0]
    return {
        "market": inputs.market.as_dict(),
        "inputs": inputs.common,
        "settings": {
            **values,
            "switch_off_when_unprofitable": settings.switch_off_when_unprofitable,
        },
        "start_date": today.isoformat(),
        "months": result["months"],
        "network": {k: result[k][0] for k in NETWORK_SERIES},
        "halving_month": halving,
        "halving_date": _date_after_months(today, halving),
        "results": miners,
    }


def fitted_market_model(dbsession):
    """Drift, volatility and correlation fitted to the stored daily prices and difficulty
    (difficulty stands in for the network hashrate: it is the hashrate without the daily
    luck of ~144 blocks). 28-day steps, as docs/calculator.md recommends."""
    from hashinsight_core.market.models import MarketDifficulty, MarketPriceDaily
    from plugins.calculator.montecarlo import fit_market_model

    prices = dbsession.execute(
        sa.select(MarketPriceDaily.date, MarketPriceDaily.close).order_by(MarketPriceDaily.date)
    ).all()
    steps = dbsession.execute(
        sa.select(MarketDifficulty.date, MarketDifficulty.difficulty)
        .where(MarketDifficulty.date.is_not(None))
        .order_by(MarketDifficulty.date)
    ).all()
    if prices and steps:
        # The difficulty in force on each price day (the last change on or before it).
        change_days = np.array([d.toordinal() for d, _ in steps])
        levels = np.array([v for _, v in steps], dtype=float)
        days = np.array([d.toordinal() for d, _ in prices])
        at = np.searchsorted(change_days, days, side="right") - 1
        known = at >= 0
        closes = np.array([c for _, c in prices], dtype=float)[known]
        difficulty = levels[at[known]]
    else:
        closes = difficulty = np.array([])
    if closes.size < MIN_FIT_DAYS:
        raise InvalidInput(
            _(
                "fit_history: ${days} days of price and difficulty history are stored; at "
                "least ${needed} are needed (hashinsight market import)",
                mapping={"days": closes.size, "needed": MIN_FIT_DAYS},
            ),
            "fit_history",
        )

    return _engine_call(fit_market_model, closes, difficulty, step_days=FIT_STEP_DAYS)


def run_monte_carlo(request, data: Mapping, stored=None) -> dict:
    from plugins.calculator.montecarlo import MarketModel, monte_carlo

    inputs = read_inputs(request, data, stored)
    settings, values = projection_settings(data)
    mc = pick(data, MONTE_CARLO, {"paths": DEFAULT_PATHS})
    given = {k: mc[k] for k in ("price_drift", "price_volatility", "hashrate_drift",
                                "hashrate_volatility", "correlation") if k in mc}  # fmt: skip
    if data.get("fit_history"):
        base, source = fitted_market_model(request.dbsession), "fitted"
    else:
        base, source = MarketModel(), "default"
    if given:
        source = "input" if source == "default" else "fitted+input"
    from dataclasses import replace

    model = replace(base, **given)
    seed = mc.get("seed")
    if seed is None:
        seed = int(np.random.default_rng().integers(0, 2**31))
    result = _engine_call(
        monte_carlo, inputs.single(0), settings, model, paths=mc["paths"], seed=seed
    ).as_dict()
    result["percentiles"] = [f"p{p:g}" for p in result["percentiles"]]
    result["paths"] = int(result["paths"])
    result["model"]["observations"] = int(result["model"]["observations"])
    return {
        "market": inputs.market.as_dict(),
        "miner": inputs.miners[0].as_dict(),
        "settings": {
            **values,
            "switch_off_when_unprofitable": settings.switch_off_when_unprofitable,
        },
        "seed": seed,
        "model_source": source,
        **result,
    }


def run_sensitivity(request, data: Mapping, stored=None) -> dict:
    from plugins.calculator.sensitivity import tornado

    inputs = read_inputs(request, data, stored)
    steps = data.get("steps") or [0.10, 0.25]
    steps = [check(s, "steps", Limit(0, 0.9, above_minimum=True)) for s in steps]
    settings = None
    if data.get("dynamic"):
        settings, _schedule = projection_settings(data)
    result = _engine_call(tornado, inputs.single(0), settings, steps=steps).as_dict()
    return {
        "market": inputs.market.as_dict(),
        "miner": inputs.miners[0].as_dict(),
        **result,
    }
