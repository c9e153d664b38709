from hashinsight_core.openapi import (
    PAGE_PARAMETERS,
    json_body,
    json_response,
    page_of,
    path_id,
    ref,
)
from plugins.calculator import catalogue, engine
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
