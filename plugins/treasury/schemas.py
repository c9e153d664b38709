from hashinsight_core.openapi import PAGE_PARAMETERS, json_body, json_response, page_of, ref

KIND_TEXT = (
    "`mined`, `bought`, `sold` or `fee` (BTC paid as fees); anything else is answered with 422."
)
# Amounts go out as strings so no digit is lost; they come in as a JSON number or a string.
_DECIMAL_OUT = {"type": "string", "format": "decimal"}

ENTRY = {
    "type": "object",
    "properties": {
        "id": {"type": "integer", "example": 12},
        "occurred_on": {"type": "string", "format": "date", "example": "2024-04-20"},
        "kind": {"type": "string", "enum": ["mined", "bought", "sold", "fee"], "example": "sold"},
        "btc": {**_DECIMAL_OUT, "example": "0.50000000"},
        "usd": {
            **_DECIMAL_OUT,
            "nullable": True,
            "example": "35000.00",
            "description": "Bought: paid; sold: received; mined: market value then; fee: optional.",
        },
        "note": {"type": "string", "nullable": True, "example": "OTC desk, April"},
        "created_at": {"type": "string", "format": "date-time"},
        "balance_btc": {
            **_DECIMAL_OUT,
            "example": "1.50000000",
            "description": "BTC held right after this entry",
        },
        "average_cost_usd": {
            **_DECIMAL_OUT,
            "nullable": True,
            "example": "50000.00",
            "description": "Average cost per BTC right after this entry "
            "(weighted average cost); null when none is held",
        },
        "realized_pl_usd": {
            **_DECIMAL_OUT,
            "nullable": True,
            "example": "10000.00",
            "description": "Sales only: received minus the average cost of the BTC sold",
        },
    },
}

ENTRY_CREATE = {
    "type": "object",
    "required": ["occurred_on", "kind", "btc"],
    "additionalProperties": False,
    "properties": {
        "occurred_on": {"type": "string", "format": "date", "example": "2024-04-20"},
        "kind": {"type": "string", "description": KIND_TEXT, "example": "sold"},
        "btc": {
            "anyOf": [{"type": "number"}, {"type": "string"}],
            "example": "0.5",
            "description": "More than 0, at most 8 decimal places.",
        },
        "usd": {
            "anyOf": [{"type": "number", "nullable": True}, {"type": "string", "nullable": True}],
            "example": "35000.00",
            "description": "Needed for bought (paid) and sold (received); for mined, the "
            "market value (optional; without it the BTC counts at no cost). "
            "0 or more, at most 2 decimal places.",
        },
        "note": {
            "type": "string",
            "nullable": True,
            "maxLength": 500,
            "example": "OTC desk, April",
        },
    },
}

SUMMARY = {
    "type": "object",
    "properties": {
        "balance_btc": {**_DECIMAL_OUT, "example": "1.50000000"},
        "average_cost_usd": {**_DECIMAL_OUT, "nullable": True, "example": "50000.00"},
        "cost_basis_usd": {
            **_DECIMAL_OUT,
            "example": "75000.00",
            "description": "What the BTC held cost, in total",
        },
        "realized_pl_usd": {**_DECIMAL_OUT, "example": "10000.00"},
        "btc_in": {**_DECIMAL_OUT, "example": "2.00000000"},
        "btc_out": {**_DECIMAL_OUT, "example": "0.50000000"},
        "fee_btc": {**_DECIMAL_OUT, "example": "0.00000000"},
        "fee_cost_usd": {
            **_DECIMAL_OUT,
            "example": "0.00",
            "description": "Average cost of the BTC paid as fees",
        },
        "entries": {"type": "integer", "example": 3},
        "as_of": {"type": "string", "format": "date", "nullable": True},
    },
}


def _date_param(name: str, description: str) -> dict:
    return {
        "name": name,
        "in": "query",
        "description": description,
        "schema": {"type": "string", "format": "date"},
        "example": "2024-04-30",
    }


API_PATHS = {
    "paths": {
        "/api/v1/treasury/entries": {
            "get": {
                "tags": ["treasury"],
                "summary": "BTC inventory entries, oldest first, with the position after each",
                "operationId": "treasury.entry.list",
                "parameters": [
                    _date_param("date_from", "Only entries on or after this day"),
                    _date_param("date_to", "Only entries on or before this day"),
                    {
                        "name": "kind",
                        "in": "query",
                        "description": KIND_TEXT,
                        "schema": {"type": "string"},
                        "example": "sold",
                    },
                    *PAGE_PARAMETERS,
                ],
                "responses": {
                    "200": json_response(
                        "Entries by date, then as entered", ref("TreasuryEntryPage")
                    ),
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "403": {"$ref": "#/components/responses/Forbidden"},
                    "422": {"$ref": "#/components/responses/BadRequest"},
                },
            },
            "post": {
                "tags": ["treasury"],
                "summary": "Add an entry (refused if a sale or fee would take out more BTC "
                "than is held)",
                "operationId": "treasury.entry.create",
                "requestBody": json_body(
                    ref("TreasuryEntryCreate"),
                    example={
                        "occurred_on": "2024-04-20",
                        "kind": "sold",
                        "btc": "0.5",
                        "usd": "35000.00",
                        "note": "OTC desk, April",
                    },
                ),
                "responses": {
                    "201": json_response("Created", ref("TreasuryEntry")),
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "403": {"$ref": "#/components/responses/Forbidden"},
                    "422": {"$ref": "#/components/responses/BadRequest"},
                },
            },
        },
        "/api/v1/treasury/summary": {
            "get": {
                "tags": ["treasury"],
                "summary": "Balance, average cost and realized profit/loss",
                "operationId": "treasury.summary",
                "parameters": [
                    _date_param(
                        "as_of", "The position at the end of this day (default: everything entered)"
                    )
                ],
                "responses": {
                    "200": json_response("The position", ref("TreasurySummary")),
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "403": {"$ref": "#/components/responses/Forbidden"},
                },
            },
        },
    },
    "components": {
        "schemas": {
            "TreasuryEntry": ENTRY,
            "TreasuryEntryCreate": ENTRY_CREATE,
            "TreasuryEntryPage": page_of(ref("TreasuryEntry")),
            "TreasurySummary": SUMMARY,
        }
    },
}
