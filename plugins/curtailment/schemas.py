"""The curtailment API as an OpenAPI 3.0 fragment.

Money goes out as decimal strings ("-12.5000") so no cent is lost to floating point, and may
come in as a number or a string. Values inside a batch of prices are checked by the service,
which answers 422 naming the row (``rows[3].price_per_mwh``); the document checks the shape.
"""

from hashinsight_core.openapi import PAGE_PARAMETERS, json_body, json_response, page_of, ref

MAX_BATCH = 1000

DECIMAL_IN = {
    "oneOf": [{"type": "number"}, {"type": "string", "maxLength": 40}],
    "description": "A number, or a decimal string for exact cents",
}
MONEY_OUT = {"type": "string", "format": "decimal", "example": "1234.56"}

PRICE = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "site_id": {"type": "integer"},
        "starts_at": {"type": "string", "format": "date-time", "example": "2026-03-01T14:00:00Z"},
        "price_per_mwh": {"type": "string", "format": "decimal", "example": "-12.5000"},
        "currency": {"type": "string", "example": "USD"},
        "source": {"type": "string", "example": "manual"},
    },
}

PRICE_ROW = {
    "type": "object",
    "required": ["site_id", "starts_at", "price_per_mwh"],
    "additionalProperties": False,
    "properties": {
        "site_id": {"type": "integer", "example": 1},
        "starts_at": {
            "type": "string",
            "maxLength": 40,
            "description": "Start of the hour, ISO 8601 with a time zone (Z or +05:00); "
            "must be on the hour",
            "example": "2026-03-01T14:00:00Z",
        },
        "price_per_mwh": {**DECIMAL_IN, "example": -12.5},
        "currency": {
            "type": "string",
            "default": "USD",
            "description": "ISO 4217 code, 3 letters",
            "example": "USD",
        },
        "source": {
            "type": "string",
            "default": "manual",
            "description": "Where the price came from: manual, csv, a market's name",
            "example": "manual",
        },
    },
}

PRICE_BATCH = {
    "type": "object",
    "required": ["rows"],
    "additionalProperties": False,
    "description": "All rows are written, or none: one bad row rejects the batch.",
    "properties": {
        "rows": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_BATCH,
            "items": ref("CurtailmentPriceRow"),
        }
    },
}

PLAN_REQUEST = {
    "type": "object",
    "required": ["site_id", "breakeven_usd_per_mwh", "from", "to"],
    "additionalProperties": False,
    "properties": {
        "site_id": {"type": "integer", "example": 1},
        "breakeven_usd_per_mwh": {
            **DECIMAL_IN,
            "description": "What mining one MWh earns: hashprice / (J/TH * 24 / 1e6)",
            "example": 45,
        },
        "from": {"type": "string", "maxLength": 40, "example": "2026-03-01T00:00:00Z"},
        "to": {
            "type": "string",
            "maxLength": 40,
            "description": "End of the window (not included)",
            "example": "2026-03-02T00:00:00Z",
        },
        "load_mw": {
            "type": "number",
            "description": "Power the miners draw; the site's capacity when left out",
            "example": 10,
        },
    },
}

PLAN = {
    "type": "object",
    "properties": {
        "site_id": {"type": "integer"},
        "from": {"type": "string", "format": "date-time"},
        "to": {"type": "string", "format": "date-time"},
        "currency": {"type": "string", "example": "USD"},
        "breakeven_usd_per_mwh": {"type": "string", "format": "decimal", "example": "45.0000"},
        "load_mw": {"type": "number", "example": 10},
        "hours_in_window": {"type": "integer", "example": 24},
        "hours_priced": {"type": "integer", "example": 24},
        "hours_to_curtail": {"type": "integer", "example": 3},
        "curtail_hours": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "starts_at": {"type": "string", "format": "date-time"},
                    "price_per_mwh": {"type": "string", "format": "decimal"},
                    "saving_usd": MONEY_OUT,
                },
            },
        },
        "energy_avoided_mwh": {"type": "number", "example": 30},
        "energy_cost_avoided_usd": MONEY_OUT,
        "revenue_forgone_usd": MONEY_OUT,
        "estimated_saving_usd": {
            **MONEY_OUT,
            "description": "energy cost avoided minus mining revenue given up",
        },
    },
}


def _query(name: str, required: bool, description: str, schema: dict) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


API_PATHS = {
    "paths": {
        "/api/v1/curtailment/prices": {
            "get": {
                "tags": ["curtailment"],
                "summary": "Hourly power prices of a site, oldest first",
                "operationId": "curtailment.price.list",
                "parameters": [
                    _query("site_id", True, "The site", {"type": "integer"}),
                    _query(
                        "from",
                        False,
                        "Start (included); ISO 8601, UTC if no zone",
                        {"type": "string", "maxLength": 40},
                    ),
                    _query(
                        "to",
                        False,
                        "End (not included); ISO 8601, UTC if no zone",
                        {"type": "string", "maxLength": 40},
                    ),
                    *PAGE_PARAMETERS,
                ],
                "responses": {
                    "200": json_response("One page of prices", page_of(ref("CurtailmentPrice"))),
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "403": {"$ref": "#/components/responses/Forbidden"},
                    "422": {"$ref": "#/components/responses/BadRequest"},
                },
            },
            "post": {
                "tags": ["curtailment"],
                "summary": "Add 1 to 1000 hourly prices, all or nothing",
                "operationId": "curtailment.price.create",
                "requestBody": json_body(ref("CurtailmentPriceBatch")),
                "responses": {
                    "201": json_response(
                        "All rows written",
                        {
                            "type": "object",
                            "properties": {
                                "created": {"type": "integer"},
                                "items": {"type": "array", "items": ref("CurtailmentPrice")},
                            },
                        },
                    ),
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "403": {"$ref": "#/components/responses/Forbidden"},
                    "409": {"$ref": "#/components/responses/BadRequest"},
                    "422": {"$ref": "#/components/responses/BadRequest"},
                },
            },
        },
        "/api/v1/curtailment/plan": {
            "post": {
                "tags": ["curtailment"],
                "summary": "Hours to curtail (price above breakeven) and the estimated saving",
                "operationId": "curtailment.plan.create",
                "requestBody": json_body(ref("CurtailmentPlanRequest")),
                "responses": {
                    "200": json_response("The plan", ref("CurtailmentPlan")),
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "403": {"$ref": "#/components/responses/Forbidden"},
                    "422": {"$ref": "#/components/responses/BadRequest"},
                },
            }
        },
    },
    "components": {
        "schemas": {
            "CurtailmentPrice": PRICE,
            "CurtailmentPriceRow": PRICE_ROW,
            "CurtailmentPriceBatch": PRICE_BATCH,
            "CurtailmentPlanRequest": PLAN_REQUEST,
            "CurtailmentPlan": PLAN,
        }
    },
}
