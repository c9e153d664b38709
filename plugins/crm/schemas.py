STATUS_TEXT = "One of `active`, `paused`, `ended`; anything else is answered with 422."

CUSTOMER = {
    "type": "object",
    "properties": {
        "id": {"type": "integer", "example": 7},
        "name": {"type": "string", "example": "Steppe Hash LLP"},
        "contact_name": {"type": "string", "nullable": True, "example": "Aigerim Nurlanovna"},
        "contact_email": {"type": "string", "nullable": True, "example": "ops@steppehash.kz"},
        "phone": {"type": "string", "nullable": True, "example": "+7 701 123 45 67"},
        "status": {"type": "string", "enum": ["active", "paused", "ended"], "example": "active"},
        "notes": {"type": "string", "nullable": True, "example": "Pays quarterly in advance."},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}

# Optional text fields accept null or "" to mean "not given". The e-mail address and status are
# checked by the service (422 with a message), not by the schema, so the answer says what is wrong.
_FIELDS = {
    "name": {"type": "string", "minLength": 1, "maxLength": 200, "example": "Steppe Hash LLP"},
    "contact_name": {
        "type": "string",
        "nullable": True,
        "maxLength": 200,
        "example": "Aigerim Nurlanovna",
    },
    "contact_email": {
        "type": "string",
        "nullable": True,
        "maxLength": 254,
        "description": "Checked for the shape of an e-mail address (422 if not).",
        "example": "ops@steppehash.kz",
    },
    "phone": {"type": "string", "nullable": True, "maxLength": 50, "example": "+7 701 123 45 67"},
    "status": {"type": "string", "description": STATUS_TEXT, "example": "active"},
    "notes": {
        "type": "string",
        "nullable": True,
        "maxLength": 5000,
        "example": "Pays quarterly in advance.",
    },
}

CUSTOMER_CREATE = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {**_FIELDS, "status": {**_FIELDS["status"], "default": "active"}},
}

CUSTOMER_UPDATE = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "description": "Only the fields given are changed.",
    "properties": _FIELDS,
    "example": {"status": "paused", "notes": "Paused for the summer."},
}

CUSTOMER_PAGE = {
    "type": "object",
    "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/CrmCustomer"}},
        "total": {"type": "integer", "description": "How many match, across all pages"},
        "limit": {"type": "integer"},
        "offset": {"type": "integer"},
    },
}

_ID = {"name": "customer_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_ONE = {"application/json": {"schema": {"$ref": "#/components/schemas/CrmCustomer"}}}

API_PATHS = {
    "paths": {
        "/api/v1/crm/customers": {
            "get": {
                "tags": ["crm"],
                "summary": "List and search customers",
                "operationId": "crm.customer.list",
                "parameters": [
                    {
                        "name": "q",
                        "in": "query",
                        "description": "Part of the name or e-mail address, any case",
                        "schema": {"type": "string", "maxLength": 200},
                        "example": "steppe",
                    },
                    {
                        "name": "status",
                        "in": "query",
                        "description": STATUS_TEXT,
                        "schema": {"type": "string"},
                        "example": "active",
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                    },
                    {
                        "name": "offset",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 0, "default": 0},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "Customers, by name",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/CrmCustomerPage"}
                            }
                        },
                    },
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "403": {"$ref": "#/components/responses/Forbidden"},
                    "422": {"$ref": "#/components/responses/BadRequest"},
                },
            },
            "post": {
                "tags": ["crm"],
                "summary": "Add a customer",
                "operationId": "crm.customer.create",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/CrmCustomerCreate"},
                            "example": {
                                "name": "Steppe Hash LLP",
                                "contact_name": "Aigerim",
                                "contact_email": "ops@steppehash.kz",
                                "status": "active",
                            },
                        }
                    },
                },
                "responses": {
                    "201": {"description": "Created", "content": _ONE},
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "403": {"$ref": "#/components/responses/Forbidden"},
                    "409": {"$ref": "#/components/responses/BadRequest"},
                    "422": {"$ref": "#/components/responses/BadRequest"},
                },
            },
        },
        "/api/v1/crm/customers/{customer_id}": {
            "get": {
                "tags": ["crm"],
                "summary": "One customer",
                "operationId": "crm.customer.get",
                "parameters": [_ID],
                "responses": {
                    "200": {"description": "The customer", "content": _ONE},
                    "403": {"$ref": "#/components/responses/Forbidden"},
                    "404": {"$ref": "#/components/responses/NotFound"},
                },
            },
            "patch": {
                "tags": ["crm"],
                "summary": "Change some of a customer's fields",
                "operationId": "crm.customer.update",
                "parameters": [_ID],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/CrmCustomerUpdate"}
                        }
                    },
                },
                "responses": {
                    "200": {"description": "The changed customer", "content": _ONE},
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
            "CrmCustomer": CUSTOMER,
            "CrmCustomerCreate": CUSTOMER_CREATE,
            "CrmCustomerUpdate": CUSTOMER_UPDATE,
            "CrmCustomerPage": CUSTOMER_PAGE,
        }
    },
}
