"""The market API's part of the OpenAPI document."""

from __future__ import annotations

from hashinsight_core.market import figures
from hashinsight_core.openapi import (
    PAGE_PARAMETERS,
    error_response,
    json_body,
    json_response,
    page_of,
    ref,
)

TIME = {"type": "string", "nullable": True, "example": "2026-05-09T07:35:25Z"}

FIGURE = {
    "type": "object",
    "required": ["value", "unit", "source", "as_of", "age_s", "stale", "overridden"],
    "properties": {
        "value": {"type": "number", "nullable": True, "description": "null: nothing stored yet"},
        "unit": {"type": "string", "example": "USD/BTC"},
        "source": {
            "type": "string",
            "nullable": True,
            "description": "A provider (`mempool`), a median of several "
            "(`median(binance,okx,deribit)`), `override`, `import` or `computed`",
        },
        "as_of": {**TIME, "description": "When the value was true (UTC)"},
        "fetched_at": {**TIME, "description": "When it was stored (UTC)"},
        "age_s": {"type": "integer", "nullable": True, "description": "Seconds since as_of"},
        "stale": {"type": "boolean", "description": "Older than its time-to-live"},
        "overridden": {"type": "boolean", "description": "An admin's value is in force"},
        "note": {"type": "string", "description": "The override's note"},
        "expires_at": {**TIME, "description": "When the override ends (null: never)"},
        "error": {"type": "string", "description": "What failed on the latest refresh"},
    },
}

SNAPSHOT = {
    "type": "object",
    "required": ["figures", "fee_window", "empty", "stale", "refresh_queued", "now"],
    "properties": {
        "figures": {
            "type": "object",
            "description": "Every figure by name: " + ", ".join(figures.FIGURES),
            "additionalProperties": ref("MarketFigure"),
        },
        "fee_window": {
            "type": "integer",
            "enum": list(figures.FEE_WINDOWS),
            "description": "Which fees_btc_N the hashprice uses (setting market.fee_window)",
        },
        "empty": {
            "type": "boolean",
            "description": "Nothing is stored at all: run `hashinsight market refresh` or "
            "`hashinsight market import FILE --kind price`",
        },
        "stale": {"type": "boolean", "description": "Some figure is older than its TTL"},
        "refresh_queued": {"type": "boolean", "description": "This request queued a refresh"},
        "now": {"type": "string", "example": "2026-05-09T07:35:25Z"},
    },
}

HISTORY_ROW = {
    "type": "object",
    "description": "Price rows carry date/open/high/low/close/volume; difficulty rows carry "
    "height/date/difficulty",
    "properties": {
        "date": {"type": "string", "nullable": True, "example": "2024-04-20"},
        "open": {"type": "number", "nullable": True},
        "high": {"type": "number", "nullable": True},
        "low": {"type": "number", "nullable": True},
        "close": {"type": "number"},
        "volume": {"type": "number", "nullable": True, "description": "BTC"},
        "height": {"type": "integer", "nullable": True},
        "difficulty": {"type": "number"},
        "source": {"type": "string", "example": "import"},
    },
}

OVERRIDE_FIGURES = list(figures.FIGURES)

OVERRIDE = {
    "type": "object",
    "required": ["figure", "value", "note", "created_at", "expires_at"],
    "properties": {
        "figure": {"type": "string", "enum": OVERRIDE_FIGURES},
        "value": {"type": "number"},
        "note": {"type": "string"},
        "created_at": {"type": "string", "example": "2026-05-09T07:35:25Z"},
        "created_by": {"type": "integer", "nullable": True, "description": "A user id"},
        "expires_at": TIME,
    },
}

OVERRIDE_CREATE = {
    "type": "object",
    "required": ["figure", "value"],
    "additionalProperties": False,
    "properties": {
        "figure": {"type": "string", "enum": OVERRIDE_FIGURES},
        "value": {"type": "number"},
        "note": {"type": "string", "maxLength": 500, "default": ""},
        "expires_at": {
            "type": "string",
            "format": "date-time",
            "nullable": True,
            "description": "When it ends (UTC); omit or null for until cleared",
        },
    },
}

DATE_PARAMETER = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "example": "2024-04-20"}

HISTORY_PARAMETERS = [
    {
        "name": "kind",
        "in": "query",
        "required": True,
        "schema": {"type": "string", "enum": ["price", "difficulty"]},
    },
    {"name": "from", "in": "query", "description": "From this UTC day", "schema": DATE_PARAMETER},
    {"name": "to", "in": "query", "description": "Up to this day", "schema": DATE_PARAMETER},
]

FORBIDDEN = {"$ref": "#/components/responses/Forbidden"}
BAD_REQUEST = {"$ref": "#/components/responses/BadRequest"}

API_PATHS = {
    "paths": {
        "/api/v1/market": {
            "get": {
                "tags": ["market"],
                "summary": "Every market figure with its source, as-of time, age and staleness",
                "description": "Answers from stored values at once, never waiting for a "
                "provider. A stale or missing figure queues a background refresh "
                "(`refresh_queued`). Overrides by an admin win until cleared or expired. "
                "The hashprice is computed from price, difficulty, height and fees.",
                "operationId": "core.market.current",
                "responses": {
                    "200": json_response("The market now", ref("MarketSnapshot")),
                    "403": FORBIDDEN,
                },
            }
        },
        "/api/v1/market/history": {
            "get": {
                "tags": ["market"],
                "summary": "Daily BTC/USD prices or difficulty history, oldest first",
                "operationId": "core.market.history",
                "parameters": HISTORY_PARAMETERS + PAGE_PARAMETERS,
                "responses": {
                    "200": json_response("One page of rows", page_of(ref("MarketHistoryRow"))),
                    "400": BAD_REQUEST,
                    "403": FORBIDDEN,
                },
            }
        },
        "/api/v1/market/overrides": {
            "get": {
                "tags": ["market"],
                "summary": "Overrides in force",
                "operationId": "core.market.overrides",
                "responses": {
                    "200": json_response(
                        "Overrides",
                        {
                            "type": "object",
                            "required": ["items"],
                            "properties": {
                                "items": {"type": "array", "items": ref("MarketOverride")}
                            },
                        },
                    ),
                    "403": FORBIDDEN,
                },
            },
            "post": {
                "tags": ["market"],
                "summary": "Set a figure by hand (admins); it wins until cleared or expired",
                "description": "Replaces an earlier override of the same figure. Recorded in "
                "the audit log with its note.",
                "operationId": "core.market.override.set",
                "requestBody": json_body(
                    ref("MarketOverrideCreate"),
                    {"figure": "price_usd", "value": 95000, "note": "exchange outage"},
                ),
                "responses": {
                    "201": json_response("Stored", ref("MarketOverride")),
                    "400": BAD_REQUEST,
                    "403": FORBIDDEN,
                    "422": error_response("The value is not plausible for the figure"),
                },
            },
        },
        "/api/v1/market/overrides/{figure}": {
            "delete": {
                "tags": ["market"],
                "summary": "Clear a figure's override (admins)",
                "operationId": "core.market.override.clear",
                "parameters": [
                    {
                        "name": "figure",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": OVERRIDE_FIGURES},
                    }
                ],
                "responses": {
                    "204": {"description": "Cleared"},
                    "400": BAD_REQUEST,
                    "403": FORBIDDEN,
                    "404": {"$ref": "#/components/responses/NotFound"},
                },
            }
        },
    },
    "components": {
        "schemas": {
            "MarketFigure": FIGURE,
            "MarketSnapshot": SNAPSHOT,
            "MarketHistoryRow": HISTORY_ROW,
            "MarketOverride": OVERRIDE,
            "MarketOverrideCreate": OVERRIDE_CREATE,
        }
    },
}
