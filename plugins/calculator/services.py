"""The calculator's rules: reading inputs from forms and JSON, running the engine."""

from __future__ import annotations

import re
from collections.abc import Mapping

import sqlalchemy as sa

from hashinsight_core.exceptions import InvalidInput
from plugins.calculator import engine
from plugins.calculator.models import AsicModel

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

# What a first visit shows, so the page is useful at once: a current air-cooled miner on
# cheap power with late-2025 network numbers. The page says these are examples; live market
# data replaces them when the market service arrives.
EXAMPLE_INPUT = {
    "hashrate_ths": "200",
    "power_w": "3500",
    "electricity_usd_per_kwh": "0.06",
    "btc_price_usd": "100000",
    "difficulty": "1.5e14",
    "fees_per_block_btc": "0.02",
    "block_height": "925000",
}

# "1,234,567.5" (thousands separators) is fine; "0,06" (a decimal comma) is refused rather
# than read as 6, because a price off by 100 times is worse than a question.
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


def model_query() -> sa.Select:
    """The catalogue by vendor and model (unique together, so pages never overlap)."""
    return sa.select(AsicModel).order_by(AsicModel.vendor, AsicModel.model)


def list_models(dbsession) -> list[AsicModel]:
    return list(dbsession.scalars(model_query()))


def parse_number(text: str, field: str) -> float:
    text = (text or "").strip().replace("\u00a0", "").replace(" ", "").replace("_", "")
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    if not text:
        raise InvalidInput(f"{field} is needed", field)
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(f"{field} must be a number (use a dot for decimals)", field) from None


def parse_form(form: Mapping[str, str]) -> dict:
    """Form strings -> numbers for :func:`estimate`; a missing optional field is its default."""
    values: dict = {}
    for field in FIELDS:
        text = (form.get(field) or "").strip()
        if not text and field in OPTIONAL:
            values[field] = OPTIONAL[field]
            continue
        number = parse_number(text, field)
        if field == "block_height" and number.is_integer():
            number = int(number)  # anything else is left for the engine to refuse
        values[field] = number
    return values


def form_from_query(params: Mapping[str, str], models: list[AsicModel]):
    """The form's text values for a GET: the examples on a first visit, else what was sent.

    Returns ``(form, is_example)``. ``apply_preset`` (the no-script "Use" button) copies the
    chosen catalogue model's hashrate and power into the form.
    """
    if not any(field in params for field in (*FIELDS, "preset")):
        return dict(EXAMPLE_INPUT, preset=""), True
    form = {field: (params.get(field) or "").strip() for field in FIELDS}
    form["preset"] = (params.get("preset") or "").strip()
    if form["preset"] and params.get("apply_preset"):
        chosen = next((m for m in models if str(m.id) == form["preset"]), None)
        if chosen is None:
            raise InvalidInput("that miner model is not in the list", "preset")
        form["hashrate_ths"] = f"{chosen.hashrate_ths:g}"
        form["power_w"] = f"{chosen.power_w:g}"
    return form, False


def estimate(values: Mapping) -> dict:
    """Run the engine on ``values`` (numbers keyed by FIELDS); the figures as a JSON dict."""
    data = {field: values[field] for field in FIELDS if field in values}
    for field, default in OPTIONAL.items():
        data.setdefault(field, default)
    missing = [field for field in FIELDS if field not in data]
    if missing:
        raise InvalidInput(f"{missing[0]} is needed", missing[0])
    try:
        result = engine.estimate(**data)
    except engine.InputError as error:
        raise InvalidInput(error.message, error.field) from None
    return {"input": data, "days_per_month": engine.DAYS_PER_MONTH, **result.as_dict()}
