from hashinsight_core.openapi import (
    PAGE_PARAMETERS,
    json_body,
    json_response,
    page_of,
    path_id,
    ref,
)

SITE = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "timezone": {"type": "string", "example": "Asia/Almaty"},
        "capacity_kw": {"type": "number", "example": 25000},
        "created_at": {"type": "string", "format": "date-time"},
    },
}

SITE_CREATE = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200, "example": "Ekibastuz 1"},
        "timezone": {"type": "string", "default": "UTC", "example": "Asia/Almaty"},
        "capacity_kw": {"type": "number", "minimum": 0, "example": 25000},
    },
}

API_PATHS = {
    "paths": {
        "/api/v1/hosting/sites": {
            "get": {
                "tags": ["hosting"],
                "summary": "List sites",
                "operationId": "hosting.site.list",
                "parameters": PAGE_PARAMETERS,
                "responses": {
                    "200": json_response("Sites, by name", page_of(ref("HostingSite"))),
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "403": {"$ref": "#/components/responses/Forbidden"},
                },
            },
            "post": {
                "tags": ["hosting"],
                "summary": "Create a site",
                "operationId": "hosting.site.create",
                "requestBody": json_body(ref("HostingSiteCreate")),
                "responses": {
                    "201": json_response("Created", ref("HostingSite")),
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "409": {"$ref": "#/components/responses/BadRequest"},
                    "422": {"$ref": "#/components/responses/BadRequest"},
                },
            },
        },
        "/api/v1/hosting/sites/{site_id}": {
            "get": {
                "tags": ["hosting"],
                "summary": "One site",
                "operationId": "hosting.site.get",
                "parameters": [path_id("site_id")],
                "responses": {
                    "200": json_response("The site", ref("HostingSite")),
                    "404": {"$ref": "#/components/responses/NotFound"},
                },
            }
        },
    },
    "components": {"schemas": {"HostingSite": SITE, "HostingSiteCreate": SITE_CREATE}},
}
