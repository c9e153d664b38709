from hashinsight_core.openapi import (
    PAGE_PARAMETERS,
    json_body,
    json_response,
    page_of,
    path_id,
    ref,
)
from plugins.calculator import batch, catalogue, engine, services
from plugins.calculator.models import COOLING_TYPES

NUMBER_OR_NULL = {"type": "number", "nullable": True}

ESTIMATE_REQUEST = {
    "type": "object",
    "required": [
        "hashrate_ths",
        "power_w",
        "electricity_usd_per_kwh",
        "btc_price_usd",
        "difficulty",
        "block_height",
    ],
    "additionalProperties": False,
    "properties": {
        "hashrate_ths": {
            "type": "number",
            "minimum": 0,
            "maximum": engine.MAX_HASHRATE_THS,
            "description": "Miner hashrate in TH/s",
            "example": 200,
        },
        "power_w": {
            "type": "number",
            "minimum": 0,
            "maximum": engine.MAX_POWER_W,
            "description": "Power draw at the wall in watts",
            "example": 3500,
        },
        "electricity_usd_per_kwh": {
            "type": "number",
            "minimum": 0,
            "maximum": engine.MAX_ELECTRICITY_USD_PER_KWH,
            "example": 0.06,
        },
        "btc_price_usd": {
            "type": "number",
            "minimum": 0,
            "maximum": engine.MAX_BTC_PRICE_USD,
            "example": 100000,
        },
        "difficulty": {
            "type": "number",
            "minimum": engine.MIN_DIFFICULTY,
            "maximum": engine.MAX_DIFFICULTY,
            "example": 1.5e14,
        },
        "block_height": {
            "type": "integer",
            "minimum": 0,
            "maximum": engine.MAX_BLOCK_HEIGHT,
            "description": "Sets the block subsidy (halvings)",
            "example": 925000,
        },
        "fees_per_block_btc": {
            "type": "number",
            "minimum": 0,
            "maximum": engine.MAX_FEES_PER_BLOCK_BTC,
            "default": 0,
            "description": "Average transaction fees per block",
            "example": 0.02,
        },
    },
}

ESTIMATE = {
    "type": "object",
    "properties": {
        "input": ref("CalculatorEstimateRequest"),
        "days_per_month": {"type": "integer", "example": engine.DAYS_PER_MONTH},
        "block_subsidy_btc": {"type": "number", "example": 3.125},
        "btc_per_day": {"type": "number", "example": 0.000085},
        "revenue_usd_per_day": {"type": "number", "example": 8.5},
        "power_cost_usd_per_day": {"type": "number", "example": 5.04},
        "profit_usd_per_day": {"type": "number", "example": 3.46},
        "profit_usd_per_month": {"type": "number", "example": 103.8},
        "break_even_usd_per_kwh": {
            **NUMBER_OR_NULL,
            "description": "Power price where profit is 0; null at 0 W",
            "example": 0.101,
        },
        "hashprice_usd_per_th_day": {"type": "number", "example": 0.0425},
        "efficiency_j_per_th": {**NUMBER_OR_NULL, "description": "null at 0 TH/s", "example": 17.5},
    },
}

ASIC_POWER_MODE = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string", "example": "eco"},
        "hashrate_ths": {"type": "number", "example": 180},
        "power_w": {"type": "number", "example": 2900},
        "efficiency_j_per_th": {"type": "number", "example": 16.11},
        "is_default": {"type": "boolean"},
    },
}

ASIC_MODEL = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "vendor": {"type": "string", "example": "Bitmain"},
        "model": {"type": "string", "example": "Antminer S21"},
        "hashrate_ths": {"type": "number", "example": 200},
        "power_w": {"type": "number", "example": 3500},
        "efficiency_j_per_th": {
            "type": "number",
            "description": "power_w / hashrate_ths, derived (never stored)",
            "example": 17.5,
        },
        "release_year": {"type": "integer", "nullable": True, "example": 2024},
        "cooling": {"type": "string", "enum": list(COOLING_TYPES)},
        "source": {
            "type": "string",
            "description": "Where the figures come from (URL or citation)",
        },
        "notes": {"type": "string"},
        "is_active": {
            "type": "boolean",
            "description": "Inactive models are hidden from the calculator",
        },
        "power_modes": {"type": "array", "items": ref("CalculatorAsicPowerMode")},
        "updated_at": {"type": "string", "format": "date-time", "nullable": True},
    },
}

POSITIVE_THS = {
    "type": "number",
    "minimum": 0,
    "exclusiveMinimum": True,
    "maximum": catalogue.MAX_HASHRATE_THS,
    "description": "Nameplate hashrate in TH/s",
}
POSITIVE_W = {
    "type": "number",
    "minimum": 0,
    "exclusiveMinimum": True,
    "maximum": catalogue.MAX_POWER_W,
    "description": "Power at the wall in watts",
}

ASIC_POWER_MODE_INPUT = {
    "type": "object",
    "required": ["name", "hashrate_ths", "power_w"],
    "additionalProperties": False,
    "properties": {
        "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": catalogue.MAX_MODE_NAME,
            "description": "eco, normal, turbo or a firmware profile's name (no ':', ';' or '*')",
            "example": "eco",
        },
        "hashrate_ths": {**POSITIVE_THS, "example": 180},
        "power_w": {**POSITIVE_W, "example": 2900},
        "is_default": {"type": "boolean", "default": False},
    },
}

MODEL_INPUT_PROPERTIES = {
    "vendor": {"type": "string", "minLength": 1, "maxLength": catalogue.MAX_VENDOR},
    "model": {"type": "string", "minLength": 1, "maxLength": catalogue.MAX_MODEL},
    "hashrate_ths": {**POSITIVE_THS, "example": 200},
    "power_w": {**POSITIVE_W, "example": 3500},
    "cooling": {"type": "string", "enum": list(COOLING_TYPES)},
    "release_year": {"type": "integer", "nullable": True, "example": 2024},
    "source": {"type": "string", "maxLength": catalogue.MAX_SOURCE},
    "notes": {"type": "string", "maxLength": catalogue.MAX_NOTES},
    "is_active": {"type": "boolean"},
    "power_modes": {
        "type": "array",
        "maxItems": catalogue.MAX_MODES,
        "items": ref("CalculatorAsicPowerModeInput"),
        "description": "At most one is the default. In an update, the list replaces the modes "
        "(matched by name, so an edited mode keeps its id).",
    },
}

ASIC_MODEL_CREATE = {
    "type": "object",
    "required": list(catalogue.REQUIRED_COLUMNS),
    "additionalProperties": False,
    "properties": MODEL_INPUT_PROPERTIES,
}

ASIC_MODEL_UPDATE = {
    "type": "object",
    "minProperties": 1,
    "additionalProperties": False,
    "description": "Only the fields that change; set is_active false to deactivate.",
    "properties": MODEL_INPUT_PROPERTIES,
}

MODEL_LIST_PARAMETERS = [
    {
        "name": "q",
        "in": "query",
        "description": "Words that must all appear in the vendor or model name",
        "schema": {"type": "string", "maxLength": 100},
    },
    {
        "name": "vendor",
        "in": "query",
        "description": "Only this vendor (any case)",
        "schema": {"type": "string", "maxLength": catalogue.MAX_VENDOR},
    },
    {
        "name": "cooling",
        "in": "query",
        "schema": {"type": "string", "enum": list(COOLING_TYPES)},
    },
    {
        "name": "status",
        "in": "query",
        "description": "inactive and all need calculator:model:manage",
        "schema": {"type": "string", "enum": list(catalogue.STATUSES), "default": "active"},
    },
    {
        "name": "sort",
        "in": "query",
        "description": "name (vendor, model), efficiency (best first), hashrate or year "
        "(highest first)",
        "schema": {"type": "string", "enum": list(catalogue.SORTS), "default": "name"},
    },
    *PAGE_PARAMETERS,
]

API_PATHS = {
    "paths": {
        "/api/v1/calculator/estimate": {
            "post": {
                "tags": ["calculator"],
                "summary": "Estimate a miner's daily revenue, power cost and profit",
                "description": "Expected value from hashrate share; no pool fee, luck or "
                "difficulty change. Open to everyone (send the CSRF header "
                "from a browser session).",
                "operationId": "calculator.estimate.create",
                "requestBody": json_body(ref("CalculatorEstimateRequest")),
                "responses": {
                    "200": json_response("The figures", ref("CalculatorEstimate")),
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "422": {"$ref": "#/components/responses/BadRequest"},
                },
            }
        },
        "/api/v1/calculator/models": {
            "get": {
                "tags": ["calculator"],
                "summary": "List or search the miner model catalogue",
                "operationId": "calculator.model.list",
                "parameters": MODEL_LIST_PARAMETERS,
                "responses": {
                    "200": json_response(
                        "Models with their power modes", page_of(ref("CalculatorAsicModel"))
                    ),
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "403": {"$ref": "#/components/responses/Forbidden"},
                },
            },
            "post": {
                "tags": ["calculator"],
                "summary": "Add a model to the catalogue (calculator:model:manage)",
                "operationId": "calculator.model.create",
                "requestBody": json_body(ref("CalculatorAsicModelCreate")),
                "responses": {
                    "201": json_response("Added", ref("CalculatorAsicModel")),
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "403": {"$ref": "#/components/responses/Forbidden"},
                    "409": {"$ref": "#/components/responses/BadRequest"},
                    "422": {"$ref": "#/components/responses/BadRequest"},
                },
            },
        },
        "/api/v1/calculator/models/{model_id}": {
            "get": {
                "tags": ["calculator"],
                "summary": "One model with its power modes",
                "description": "An inactive model is found only with calculator:model:manage.",
                "operationId": "calculator.model.get",
                "parameters": [path_id("model_id")],
                "responses": {
                    "200": json_response("The model", ref("CalculatorAsicModel")),
                    "403": {"$ref": "#/components/responses/Forbidden"},
                    "404": {"$ref": "#/components/responses/NotFound"},
                },
            },
            "patch": {
                "tags": ["calculator"],
                "summary": "Change a model (calculator:model:manage)",
                "operationId": "calculator.model.update",
                "parameters": [path_id("model_id")],
                "requestBody": json_body(ref("CalculatorAsicModelUpdate")),
                "responses": {
                    "200": json_response("The model as saved", ref("CalculatorAsicModel")),
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "403": {"$ref": "#/components/responses/Forbidden"},
                    "404": {"$ref": "#/components/responses/NotFound"},
                    "409": {"$ref": "#/components/responses/BadRequest"},
                    "422": {"$ref": "#/components/responses/BadRequest"},
                },
            },
        },
    },
    "components": {
        "schemas": {
            "CalculatorEstimateRequest": ESTIMATE_REQUEST,
            "CalculatorEstimate": ESTIMATE,
            "CalculatorAsicModel": ASIC_MODEL,
            "CalculatorAsicPowerMode": ASIC_POWER_MODE,
            "CalculatorAsicPowerModeInput": ASIC_POWER_MODE_INPUT,
            "CalculatorAsicModelCreate": ASIC_MODEL_CREATE,
            "CalculatorAsicModelUpdate": ASIC_MODEL_UPDATE,
        }
    },
}


# --- quote, projection, Monte Carlo, sensitivity, batch --------------------------------------
#
# Value limits are not in the schema on purpose: a value of the right type that no one can
# mean (negative, zero, NaN, infinite, absurd) answers 422 naming the field, from the
# service; the schema answers 400 for the wrong shape (a string for a number, an unknown
# field). Each property's description states its range.

_LIMIT_TEXT = {True: "more than", False: "from"}


def number(limit: services.Limit, description: str, example=None, default=None) -> dict:
    low = f"{_LIMIT_TEXT[limit.above_minimum]} {limit.minimum:,.10g}"
    whole = " (whole number)" if limit.whole else ""
    unit = f" {limit.unit}" if limit.unit else ""
    text = f"{description}. {low} to {limit.maximum:,.10g}{unit}{whole}."
    schema = {"type": "number", "description": text}
    if example is not None:
        schema["example"] = example
    if default is not None:
        schema["default"] = default
    return schema


MINER_PROPERTIES = {
    "model_id": {"type": "integer", "description": "A catalogue model (active)", "example": 1},
    "model": {
        "type": "string",
        "maxLength": 200,
        "description": "A catalogue model by name instead of id: 'Bitmain Antminer S21'",
    },
    "mode": {
        "type": "string",
        "maxLength": catalogue.MAX_MODE_NAME,
        "description": "A power mode of the model (default: its default mode, else nameplate)",
        "example": "eco",
    },
    "label": {"type": "string", "maxLength": 100},
    "hashrate_ths": number(
        services.MINER["hashrate_ths"], "Per machine; overrides the model's", 200
    ),
    "power_w": number(services.MINER["power_w"], "At the wall, per machine", 3500),
    "idle_power_w": number(services.MINER["idle_power_w"], "Draw while curtailed", default=0),
    "quantity": number(services.MINER["quantity"], "Machines", 1, default=1),
    "capex_usd": number(services.MINER["capex_usd"], "Price per machine", 3000, default=0),
    "salvage_usd": number(
        services.MINER["salvage_usd"], "Resale value per machine at the end", default=0
    ),
}
MINER_INPUT = {
    "type": "object",
    "additionalProperties": False,
    "description": "A catalogue model (model_id or model, optional mode) or custom "
    "hashrate_ths and power_w.",
    "properties": MINER_PROPERTIES,
}
_COMMON_TEXT = {
    "electricity_usd_per_kwh": ("Electricity price", 0.06),
    "pue": ("Facility overhead: 1.0 is none", 1.0),
    "uptime": ("Share of the non-curtailed hours the machine hashes", 0.98),
    "curtailment_hours_per_day": ("Hours a day switched to idle", 0),
    "pool_fee": ("Pool fee as a fraction (0.02 = 2 %)", 0.02),
    "dev_fee": ("Firmware dev fee as a fraction", 0),
    "hosting_usd_per_miner_month": ("Flat hosting fee per machine and 30-day month", 0),
    "hosting_usd_per_kwh": ("Metered hosting fee, billed at the machine", 0),
    "hosting_revenue_share": ("Host's share of revenue as a fraction", 0),
    "depreciation_months": ("Straight-line life", 36),
}
COMMON_PROPERTIES = {
    name: number(services.COMMON[name], text, example, services.COMMON_DEFAULTS.get(name))
    for name, (text, example) in _COMMON_TEXT.items()
}
_MARKET_TEXT = {
    "btc_price_usd": ("BTC price; default: the market service's", 100000),
    "difficulty": ("Network difficulty; default: the market service's", 1.5e14),
    "block_height": ("Sets the subsidy; default: the market service's", 925000),
    "fees_per_block_btc": ("Mean fees per block; default: the market service's", 0.02),
    "network_hashrate_ths": ("Observed network hashrate, for the network-share check", None),
}
MARKET_PROPERTIES = {
    name: number(services.MARKET[name], text, example)
    for name, (text, example) in _MARKET_TEXT.items()
}
_CHECK_TEXT = {
    "hashprice_usd_per_th_day": "A published hashprice index (Luxor, Braiins) in USD per TH/day",
    "hashprice_btc_per_th_day": "A published hashprice index in BTC per TH/day",
    "realized_btc": "BTC a pool paid over realized_days",
    "realized_days": "Days of those payouts",
    "realized_hashrate_ths": "Hashrate that earned them (default: the miner's)",
    "divergence_threshold": "Flag a method further than this from the difficulty method",
}
CHECK_PROPERTIES = {name: number(services.CHECKS[name], text) for name, text in _CHECK_TEXT.items()}
_PROJECTION_TEXT = {
    "months": "Horizon",
    "hashrate_growth_per_month": "Network hashrate growth per 30-day month (0.02 = 2 %)",
    "difficulty_growth_per_epoch": "Instead: difficulty growth per 2016 blocks",
    "price_growth_per_month": "BTC price growth per month",
    "discount_rate_annual": "For the NPV",
}


def _projection_default(name: str) -> str:
    # Stated, not declared as "default": a declared default would be filled in and then
    # clash with difficulty_growth_per_epoch, the other way to say the same thing.
    default = services.PROJECTION_DEFAULTS.get(name)
    return f" (default {default:g})" if default is not None else ""


PROJECTION_PROPERTIES = {
    **{
        name: number(
            services.PROJECTION[name],
            text + _projection_default(name),
        )
        for name, text in _PROJECTION_TEXT.items()
    },
    "switch_off_when_unprofitable": {
        "type": "boolean",
        "default": False,
        "description": "Off in months where running loses more than idling",
    },
}
_MC_TEXT = {
    "paths": "Market paths",
    "seed": "Makes the run repeatable (default: random, returned)",
    "price_drift": "Yearly drift of log price",
    "price_volatility": "Yearly volatility of log price",
    "hashrate_drift": "Yearly drift of log network hashrate",
    "hashrate_volatility": "Yearly volatility of log network hashrate",
    "correlation": "Of the price and hashrate shocks",
}
MC_PROPERTIES = {
    **{
        name: number(
            services.MONTE_CARLO[name],
            text,
            default=services.DEFAULT_PATHS if name == "paths" else None,
        )
        for name, text in _MC_TEXT.items()
    },
    "fit_history": {
        "type": "boolean",
        "default": False,
        "description": "Fit drift, volatility and correlation to the stored price and "
        "difficulty history (28-day steps); given values still win",
    },
}


def miners(max_items: int) -> dict:
    return {
        "type": "array",
        "minItems": 1,
        "maxItems": max_items,
        "items": ref("CalculatorMinerInput"),
    }


def request_schema(*groups: dict, required=("miners", "electricity_usd_per_kwh"), max_miners=None):
    properties = {"miners": miners(max_miners or services.MAX_MINERS)}
    for group in groups:
        properties.update(group)
    return {
        "type": "object",
        "required": list(required),
        "additionalProperties": False,
        "properties": properties,
    }


QUOTE_REQUEST = request_schema(COMMON_PROPERTIES, MARKET_PROPERTIES, CHECK_PROPERTIES)
PROJECTION_REQUEST = request_schema(COMMON_PROPERTIES, MARKET_PROPERTIES, PROJECTION_PROPERTIES)
MONTE_CARLO_REQUEST = request_schema(
    COMMON_PROPERTIES, MARKET_PROPERTIES, PROJECTION_PROPERTIES, MC_PROPERTIES, max_miners=1
)
SENSITIVITY_REQUEST = request_schema(
    COMMON_PROPERTIES,
    MARKET_PROPERTIES,
    PROJECTION_PROPERTIES,
    {
        "dynamic": {
            "type": "boolean",
            "default": False,
            "description": "Payback from the projection (else capex over today's profit)",
        },
        "steps": {
            "type": "array",
            "maxItems": 4,
            "items": {"type": "number"},
            "description": "Fractions to move each input by, default [0.1, 0.25]",
        },
    },
    max_miners=1,
)

MARKET_VALUE = {
    "type": "object",
    "properties": {
        "value": NUMBER_OR_NULL,
        "source": {"type": "string", "nullable": True, "example": "median(binance,okx,deribit)"},
        "as_of": {"type": "string", "nullable": True, "format": "date-time"},
        "age_s": {"type": "integer", "nullable": True},
        "stale": {"type": "boolean"},
        "overridden": {"type": "boolean", "description": "An admin's value"},
        "from_request": {"type": "boolean", "description": "Given in this request"},
    },
}
MARKET_USED = {
    "type": "object",
    "description": "The market values used, each with its source and age",
    "additionalProperties": ref("CalculatorMarketValue"),
}
MINER_RESOLVED = {
    "type": "object",
    "properties": {
        "label": {"type": "string"},
        "model_id": {"type": "integer", "nullable": True},
        "model": {"type": "string", "nullable": True},
        "mode": {"type": "string", "nullable": True},
        "hashrate_ths": {"type": "number"},
        "power_w": {"type": "number"},
        "idle_power_w": {"type": "number"},
        "quantity": {"type": "integer"},
        "capex_usd": {"type": "number"},
        "salvage_usd": {"type": "number"},
        "efficiency_j_per_th": {"type": "number"},
    },
}
REVENUE_METHOD = {
    "type": "object",
    "properties": {
        "method": {
            "type": "string",
            "enum": ["difficulty", "network_share", "hashprice_index", "realized_payouts"],
        },
        "btc_per_day": NUMBER_OR_NULL,
        "basis": {"type": "string", "enum": ["gross", "net"]},
        "divergence": {**NUMBER_OR_NULL, "description": "method / difficulty method - 1"},
        "flagged": {"type": "boolean"},
        "independent": {
            "type": "boolean",
            "description": "false when it agrees by construction (a network hashrate "
            "derived from difficulty)",
        },
        "note": {"type": "string"},
    },
}
QUOTE_FIGURES = {
    "type": "object",
    "description": "Every field of engine.Quote for this miner's whole quantity "
    "(docs/calculator.md section 2); null where a value does not exist",
    "additionalProperties": NUMBER_OR_NULL,
}
QUOTE = {
    "type": "object",
    "properties": {
        "market": MARKET_USED,
        "inputs": {"type": "object"},
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "miner": ref("CalculatorMiner"),
                    "figures": QUOTE_FIGURES,
                    "revenue_check": {
                        "type": "object",
                        "properties": {
                            "btc_per_day_gross": NUMBER_OR_NULL,
                            "btc_per_day_net": NUMBER_OR_NULL,
                            "threshold": {"type": "number"},
                            "any_flagged": {"type": "boolean"},
                            "methods": {"type": "array", "items": ref("CalculatorRevenueMethod")},
                        },
                    },
                },
            },
        },
        "totals": {"type": "object", "additionalProperties": NUMBER_OR_NULL},
        "days_per_month": {"type": "integer"},
    },
}
SERIES = {"type": "array", "items": NUMBER_OR_NULL}
PROJECTION_RESULT = {
    "type": "object",
    "properties": {
        "market": MARKET_USED,
        "inputs": {"type": "object"},
        "settings": {"type": "object"},
        "start_date": {"type": "string", "format": "date"},
        "months": {"type": "array", "items": {"type": "number"}},
        "network": {"type": "object", "additionalProperties": SERIES},
        "halving_month": {**NUMBER_OR_NULL, "description": "Months from now (fractional)"},
        "halving_date": {"type": "string", "format": "date", "nullable": True},
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "miner": ref("CalculatorMiner"),
                    "series": {
                        "type": "object",
                        "description": "Monthly cumulative_cash_flow_usd, profit_usd, revenue_usd, "
                        "power_cost_usd, hosting_usd, btc_mined, running",
                    },
                    "summary": {
                        "type": "object",
                        "additionalProperties": NUMBER_OR_NULL,
                        "description": "payback_months, static_payback_months, roi, npv_usd, "
                        "irr_annual, total_btc, total_profit_usd, capex_usd, salvage_usd",
                    },
                },
            },
        },
    },
}
BANDS = {"type": "object", "additionalProperties": SERIES, "description": "p10, p50, p90"}
MONTE_CARLO_RESULT = {
    "type": "object",
    "properties": {
        "market": MARKET_USED,
        "miner": ref("CalculatorMiner"),
        "settings": {"type": "object"},
        "seed": {"type": "integer"},
        "model_source": {"type": "string", "enum": ["default", "input", "fitted", "fitted+input"]},
        "paths": {"type": "integer"},
        "months": {"type": "array", "items": {"type": "number"}},
        "percentiles": {"type": "array", "items": {"type": "string"}},
        "cumulative_cash_flow_usd": BANDS,
        "btc_price_usd": BANDS,
        "network_hashrate_ths": BANDS,
        "profit_usd": BANDS,
        "probability_of_payback": NUMBER_OR_NULL,
        "probability_of_profit": NUMBER_OR_NULL,
        "payback_months": {"type": "object", "additionalProperties": NUMBER_OR_NULL},
        "npv_usd": {"type": "object", "additionalProperties": NUMBER_OR_NULL},
        "roi": {"type": "object", "additionalProperties": NUMBER_OR_NULL},
        "model": {"type": "object"},
    },
}
SENSITIVITY_RESULT = {
    "type": "object",
    "properties": {
        "market": MARKET_USED,
        "miner": ref("CalculatorMiner"),
        "base_profit_usd_per_day": NUMBER_OR_NULL,
        "base_payback_months": NUMBER_OR_NULL,
        "payback": {"type": "string", "enum": ["static", "dynamic"]},
        "rows": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "input": {"type": "string"},
                    "base_value": {"type": "number"},
                    "steps": {"type": "array", "items": {"type": "object"}},
                    "swing_profit_usd_per_day": NUMBER_OR_NULL,
                    "swing_payback_months": NUMBER_OR_NULL,
                },
            },
        },
    },
}

BATCH_SCENARIO = {
    "type": "object",
    "additionalProperties": False,
    "description": "One row: a model or custom hashrate/power, and any input that differs "
    "from the request's defaults",
    "properties": {
        **MINER_PROPERTIES,
        **COMMON_PROPERTIES,
        **{k: v for k, v in MARKET_PROPERTIES.items() if k != "network_hashrate_ths"},
    },
}
BATCH_REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "description": "Either grid (models x prices x rates) or scenarios; the other fields are "
    "defaults for every row.",
    "properties": {
        "grid": {
            "type": "object",
            "additionalProperties": False,
            "required": ["models"],
            "properties": {
                "models": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": batch.MAX_GRID_VALUES,
                    "items": {"oneOf": [{"type": "integer"}, ref("CalculatorMinerInput")]},
                    "description": "Model ids, or miners with a mode or quantity",
                },
                "btc_prices_usd": {
                    "type": "array",
                    "maxItems": batch.MAX_GRID_VALUES,
                    "items": {"type": "number"},
                },
                "electricity_usd_per_kwh": {
                    "type": "array",
                    "maxItems": batch.MAX_GRID_VALUES,
                    "items": {"type": "number"},
                },
            },
        },
        "scenarios": {
            "type": "array",
            "maxItems": batch.MAX_ROWS,
            "items": ref("CalculatorBatchScenario"),
        },
        **COMMON_PROPERTIES,
        **{k: v for k, v in MARKET_PROPERTIES.items() if k != "network_hashrate_ths"},
    },
}
BATCH_TABLE = {
    "type": "object",
    "properties": {
        "columns": {"type": "array", "items": {"type": "string"}, "example": list(batch.COLUMNS)},
        "rows": {"type": "array", "items": {"type": "array", "items": {"nullable": True}}},
        "count": {"type": "integer"},
        "market": {
            "type": "object",
            "description": "Stored market values used where a row gave none",
        },
    },
}
FORMAT_PARAMETER = {
    "name": "format",
    "in": "query",
    "description": "json (a table), csv or xlsx (a download)",
    "schema": {"type": "string", "enum": ["json", "csv", "xlsx"], "default": "json"},
}
FILE_DEFAULT_PARAMETERS = [
    {
        "name": name,
        "in": "query",
        "description": "Default for rows without this column. " + schema["description"],
        "schema": {"type": "number"},
    }
    for name, schema in {
        **COMMON_PROPERTIES,
        **{k: v for k, v in MARKET_PROPERTIES.items() if k != "network_hashrate_ths"},
    }.items()
]
BATCH_RESPONSES = {
    "200": {
        "description": "The table (json), or a file (csv, xlsx)",
        "content": {
            "application/json": {"schema": ref("CalculatorBatchTable")},
            "text/csv": {"schema": {"type": "string"}},
            batch.XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    },
    "400": {"$ref": "#/components/responses/BadRequest"},
    "422": {"$ref": "#/components/responses/BadRequest"},
}


def post(operation: str, summary: str, body: dict, answer: str, description: str = "") -> dict:
    return {
        "post": {
            "tags": ["calculator"],
            "summary": summary,
            "description": (description + " " if description else "")
            + "Open to everyone (send the CSRF header from a browser session). Market values "
            "not given come from the market service, each answered with its source and age.",
            "operationId": operation,
            "requestBody": json_body(body),
            "responses": {
                "200": json_response("The figures", ref(answer)),
                "400": {"$ref": "#/components/responses/BadRequest"},
                "422": {"$ref": "#/components/responses/BadRequest"},
            },
        }
    }


API_PATHS["paths"].update(
    {
        "/api/v1/calculator/quote": post(
            "calculator.quote.create",
            "One day of mining for one or several miners, with the revenue methods side by side",
            ref("CalculatorQuoteRequest"),
            "CalculatorQuote",
        ),
        "/api/v1/calculator/projection": post(
            "calculator.projection.create",
            "Month by month cash flow, payback, NPV, IRR and ROI, stepped by difficulty epoch",
            ref("CalculatorProjectionRequest"),
            "CalculatorProjection",
        ),
        "/api/v1/calculator/montecarlo": post(
            "calculator.montecarlo.create",
            "P10/P50/P90 bands and the probability of payback over many market paths",
            ref("CalculatorMonteCarloRequest"),
            "CalculatorMonteCarlo",
            "One miner.",
        ),
        "/api/v1/calculator/sensitivity": post(
            "calculator.sensitivity.create",
            "Tornado: profit and payback with each input moved down and up",
            ref("CalculatorSensitivityRequest"),
            "CalculatorSensitivity",
            "One miner.",
        ),
        "/api/v1/calculator/batch": {
            "post": {
                "tags": ["calculator"],
                "summary": "Many scenarios in one run: a grid or a list",
                "description": f"At most {batch.MAX_ROWS:,} scenarios. Nothing is stored.",
                "operationId": "calculator.batch.create",
                "parameters": [FORMAT_PARAMETER],
                "requestBody": json_body(ref("CalculatorBatchRequest")),
                "responses": BATCH_RESPONSES,
            }
        },
        "/api/v1/calculator/batch/file": {
            "post": {
                "tags": ["calculator"],
                "summary": "Many scenarios from an uploaded CSV or Excel (.xlsx) file",
                "description": "The body is the file itself. Row 1 names the columns: "
                + ", ".join(batch.FILE_COLUMNS)
                + f". At most {batch.MAX_FILE_BYTES // (1024 * 1024)} MB and "
                f"{batch.MAX_ROWS:,} rows; problems name the row and column. Nothing is "
                "stored.",
                "operationId": "calculator.batch.upload",
                "parameters": [FORMAT_PARAMETER, *FILE_DEFAULT_PARAMETERS],
                "requestBody": {
                    "required": True,
                    "content": {
                        "text/csv": {"schema": {"type": "string", "format": "binary"}},
                        batch.XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
                        "application/octet-stream": {
                            "schema": {"type": "string", "format": "binary"}
                        },
                    },
                },
                "responses": BATCH_RESPONSES,
            }
        },
    }
)
API_PATHS["components"]["schemas"].update(
    {
        "CalculatorMinerInput": MINER_INPUT,
        "CalculatorMiner": MINER_RESOLVED,
        "CalculatorMarketValue": MARKET_VALUE,
        "CalculatorRevenueMethod": REVENUE_METHOD,
        "CalculatorQuoteRequest": QUOTE_REQUEST,
        "CalculatorQuote": QUOTE,
        "CalculatorProjectionRequest": PROJECTION_REQUEST,
        "CalculatorProjection": PROJECTION_RESULT,
        "CalculatorMonteCarloRequest": MONTE_CARLO_REQUEST,
        "CalculatorMonteCarlo": MONTE_CARLO_RESULT,
        "CalculatorSensitivityRequest": SENSITIVITY_REQUEST,
        "CalculatorSensitivity": SENSITIVITY_RESULT,
        "CalculatorBatchScenario": BATCH_SCENARIO,
        "CalculatorBatchRequest": BATCH_REQUEST,
        "CalculatorBatchTable": BATCH_TABLE,
    }
)
