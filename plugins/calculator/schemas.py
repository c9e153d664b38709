from hashinsight_core.openapi import PAGE_PARAMETERS, json_body, json_response, page_of, ref
from plugins.calculator import engine

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

ASIC_MODEL = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "vendor": {"type": "string", "example": "Bitmain"},
        "model": {"type": "string", "example": "Antminer S21"},
        "hashrate_ths": {"type": "number", "example": 200},
        "power_w": {"type": "number", "example": 3500},
        "efficiency_j_per_th": {"type": "number", "example": 17.5},
        "release_year": {"type": "integer", "nullable": True, "example": 2024},
        "cooling": {"type": "string", "enum": ["air", "hydro", "immersion"]},
    },
}

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
                "summary": "List the miner model catalogue",
                "operationId": "calculator.model.list",
                "parameters": PAGE_PARAMETERS,
                "responses": {
                    "200": json_response(
                        "Models, by vendor and name", page_of(ref("CalculatorAsicModel"))
                    ),
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "403": {"$ref": "#/components/responses/Forbidden"},
                },
            }
        },
    },
    "components": {
        "schemas": {
            "CalculatorEstimateRequest": ESTIMATE_REQUEST,
            "CalculatorEstimate": ESTIMATE,
            "CalculatorAsicModel": ASIC_MODEL,
        }
    },
}
