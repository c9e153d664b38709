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
                "responses": {
                    "200": {
                        "description": "Sites, by name",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "items": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/HostingSite"},
                                        },
                                        "total": {"type": "integer"},
                                    },
                                }
                            }
                        },
                    },
                    "403": {"$ref": "#/components/responses/Forbidden"},
                },
            },
            "post": {
                "tags": ["hosting"],
                "summary": "Create a site",
                "operationId": "hosting.site.create",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/HostingSiteCreate"}
                        }
                    },
                },
                "responses": {
                    "201": {
                        "description": "Created",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/HostingSite"}
                            }
                        },
                    },
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
                "parameters": [
                    {
                        "name": "site_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "The site",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/HostingSite"}
                            }
                        },
                    },
                    "404": {"$ref": "#/components/responses/NotFound"},
                },
            }
        },
    },
    "components": {"schemas": {"HostingSite": SITE, "HostingSiteCreate": SITE_CREATE}},
}
