"""The calculator page's form: its query string (the shareable URL) <-> the API's JSON body.

The page speaks in what people type (percent, a model picked from a list, a comparison
list "12,15:eco"); the API in fractions and miners. ``static/calculator.js`` builds the
same body from the same fields, so a shared URL opened without JavaScript shows the same
figures as the live page.
"""

from __future__ import annotations

from collections.abc import Mapping

from pyramid.i18n import TranslationStringFactory

from hashinsight_core.exceptions import InvalidInput
from plugins.calculator import services
from plugins.calculator.services import Limit

_ = TranslationStringFactory("hashinsight")

# Field -> default shown on a first visit ("" = empty).
DEFAULTS = {
    "model": "",
    "mode": "",
    "quantity": "1",
    "hashrate_ths": "",
    "power_w": "",
    "capex_usd": "",
    "salvage_usd": "0",
    "idle_power_w": "0",
    "electricity_usd_per_kwh": "0.06",
    "btc_price_usd": "",
    "difficulty": "",
    "fees_per_block_btc": "",
    "block_height": "",
    "pue": "1",
    "uptime_pct": "100",
    "curtailment_hours_per_day": "0",
    "pool_fee_pct": "2",
    "dev_fee_pct": "0",
    "hosting_usd_per_miner_month": "0",
    "hosting_usd_per_kwh": "0",
    "hosting_share_pct": "0",
    "months": "36",
    "hashrate_growth_pct": "2",
    "price_growth_pct": "0",
    "discount_rate_pct": "10",
    "switch_off": "",
    "compare": "",
}
MARKET_FIELDS = ("btc_price_usd", "difficulty", "fees_per_block_btc", "block_height")
# Percent on the page -> fraction in the API.
PERCENT = {
    "uptime_pct": ("uptime", Limit(0, 100, above_minimum=True)),
    "pool_fee_pct": ("pool_fee", Limit(0, 99)),
    "dev_fee_pct": ("dev_fee", Limit(0, 99)),
    "hosting_share_pct": ("hosting_revenue_share", Limit(0, 99)),
    "hashrate_growth_pct": ("hashrate_growth_per_month", Limit(-50, 100)),
    "price_growth_pct": ("price_growth_per_month", Limit(-50, 100)),
    "discount_rate_pct": ("discount_rate_annual", Limit(-50, 1000)),
}
PLAIN = (
    "electricity_usd_per_kwh",
    "pue",
    "curtailment_hours_per_day",
    "hosting_usd_per_miner_month",
    "hosting_usd_per_kwh",
    "months",
)
MINER_FIELDS = ("quantity", "capex_usd", "salvage_usd", "idle_power_w")
# An example machine price when none is typed, so payback can be drawn at once: about what
# current-generation machines sold for per TH/s in 2025 (the page says it is an example).
EXAMPLE_USD_PER_TH = 15.0
MAX_COMPARE = services.MAX_MINERS - 1


def form_values(params: Mapping[str, str]) -> dict[str, str]:
    """What the form shows: the query's values over the defaults (texts, trimmed)."""
    values = dict(DEFAULTS)
    for name in DEFAULTS:
        if name in params:
            values[name] = str(params.get(name) or "").strip()[:200]
    return values


def parse_compare(text: str) -> list[dict]:
    """ "12,15:eco" -> [{"model_id": 12}, {"model_id": 15, "mode": "eco"}]."""
    out = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        ident, _colon, mode = part.partition(":")
        if not ident.strip().isdigit():
            raise InvalidInput(
                _("compare: '${part}' is not a model from the list", mapping={"part": part[:40]}),
                "compare",
            )
        entry = {"model_id": int(ident)}
        if mode.strip():
            entry["mode"] = mode.strip()
        out.append(entry)
    if len(out) > MAX_COMPARE:
        raise InvalidInput(
            _("compare: at most ${most} models side by side", mapping={"most": MAX_COMPARE}),
            "compare",
        )
    return out


def _given(values: Mapping[str, str], name: str) -> bool:
    return bool(values.get(name, "").strip())


def body_from_form(values: Mapping[str, str], example_capex: bool = True) -> dict:
    """The API body for the form's values (raises InvalidInput naming the form's field)."""
    body: dict = {}
    for name in PLAIN:
        if _given(values, name):
            body[name] = services.to_number(values[name], name)
    for name, (target, limit) in PERCENT.items():
        if _given(values, name):
            body[target] = services.check(values[name], name, limit) / 100.0
    for name in MARKET_FIELDS:
        if _given(values, name):
            body[name] = services.to_number(values[name], name)
    body["switch_off_when_unprofitable"] = values.get("switch_off") in ("1", "on", "true")

    primary: dict = {}
    if _given(values, "model"):
        if not values["model"].isdigit():
            raise InvalidInput(_("model: choose a model from the list"), "model")

        primary["model_id"] = int(values["model"])
        if _given(values, "mode"):
            primary["mode"] = values["mode"]
    else:
        for name in ("hashrate_ths", "power_w"):
            if _given(values, name):
                primary[name] = services.to_number(values[name], name)
    for name in MINER_FIELDS:
        if _given(values, name):
            primary[name] = services.to_number(values[name], name)
    compared = parse_compare(values.get("compare", ""))
    for entry in compared:  # the same fleet size, so the figures compare
        if "quantity" in primary:
            entry["quantity"] = primary["quantity"]
    body["miners"] = [primary, *compared]
    return body


def field_of(error_field: str | None) -> str | None:
    """The form field to mark for an API field named in an error."""
    if not error_field:
        return None
    if error_field.startswith("miners[0]."):
        name = error_field.split(".", 1)[1]
        return {"model_id": "model"}.get(name, name)
    if error_field.startswith("miners["):
        return "compare"
    reverse = {target: name for name, (target, _) in PERCENT.items()}
    return reverse.get(error_field, error_field)


def fill_example_capex(body: dict, miners: list[services.Miner]) -> bool:
    """Give every miner without a price the example price per TH/s; compared models get the
    primary's price per TH/s, so they are compared at equal cost per hash. True when the
    example price was used."""
    primary = body["miners"][0]
    if "capex_usd" in primary:
        per_th = primary["capex_usd"] / miners[0].hashrate_ths
        example = False
    else:
        per_th, example = EXAMPLE_USD_PER_TH, True
    for item, miner in zip(body["miners"], miners, strict=True):
        if "capex_usd" not in item or item is not primary:
            item["capex_usd"] = round(per_th * miner.hashrate_ths, 2)
    return example
