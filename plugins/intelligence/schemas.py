from hashinsight_core.openapi import json_body, json_response, ref
from plugins.intelligence import indicators

SERIES = {
    "type": "array",
    "items": {"type": "number", "nullable": True},
    "description": "One value per close; null where the window is not full yet",
}

INDICATORS_REQUEST = {
    "type": "object",
    "required": ["closes", "window"],
    "additionalProperties": False,
    "properties": {
        "closes": {
            "type": "array",
            "minItems": indicators.MIN_CLOSES,
            "maxItems": indicators.MAX_CLOSES,
            "items": {"type": "number"},
            "description": "Closing prices, oldest first",
            "example": [64000, 64500, 63800, 65200, 66100],
        },
        "window": {
            "type": "integer",
            "minimum": indicators.MIN_WINDOW,
            "maximum": indicators.MAX_WINDOW,
            "example": 3,
        },
    },
}

INDICATORS = {
    "type": "object",
    "properties": {
        "window": {"type": "integer", "example": 3},
        "count": {"type": "integer", "example": 5},
        "sma": SERIES,
        "ema": SERIES,
        "rsi": {**SERIES, "description": "Wilder's RSI, 0 to 100; null for the first window"},
        "bollinger_middle": SERIES,
        "bollinger_upper": {**SERIES, "description": "SMA + 2 standard deviations"},
        "bollinger_lower": {**SERIES, "description": "SMA - 2 standard deviations"},
    },
}

API_PATHS = {
    "paths": {
        "/api/v1/intelligence/indicators": {
            "post": {
                "tags": ["intelligence"],
                "summary": "SMA, EMA, RSI and Bollinger bands for a series of closes",
                "operationId": "intelligence.indicator.compute",
                "requestBody": json_body(ref("IntelligenceIndicatorsRequest")),
                "responses": {
                    "200": json_response(
                        "One array per indicator, as long as closes", ref("IntelligenceIndicators")
                    ),
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "403": {"$ref": "#/components/responses/Forbidden"},
                    "422": {"$ref": "#/components/responses/BadRequest"},
                },
            }
        },
    },
    "components": {
        "schemas": {
            "IntelligenceIndicatorsRequest": INDICATORS_REQUEST,
            "IntelligenceIndicators": INDICATORS,
        }
    },
}
