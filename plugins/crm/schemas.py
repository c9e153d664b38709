from hashinsight_core.openapi import (
    PAGE_PARAMETERS,
    json_body,
    json_response,
    page_of,
    path_id,
    ref,
)

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
                    *PAGE_PARAMETERS,
                ],
                "responses": {
                    "200": json_response("Customers, by name", ref("CrmCustomerPage")),
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "403": {"$ref": "#/components/responses/Forbidden"},
                    "422": {"$ref": "#/components/responses/BadRequest"},
                },
            },
            "post": {
                "tags": ["crm"],
                "summary": "Add a customer",
                "operationId": "crm.customer.create",
                "requestBody": json_body(
                    ref("CrmCustomerCreate"),
                    example={
                        "name": "Steppe Hash LLP",
                        "contact_name": "Aigerim",
                        "contact_email": "ops@steppehash.kz",
                        "status": "active",
                    },
                ),
                "responses": {
                    "201": json_response("Created", ref("CrmCustomer")),
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
                "parameters": [path_id("customer_id")],
                "responses": {
                    "200": json_response("The customer", ref("CrmCustomer")),
                    "403": {"$ref": "#/components/responses/Forbidden"},
                    "404": {"$ref": "#/components/responses/NotFound"},
                },
            },
            "patch": {
                "tags": ["crm"],
                "summary": "Change some of a customer's fields",
                "operationId": "crm.customer.update",
                "parameters": [path_id("customer_id")],
                "requestBody": json_body(ref("CrmCustomerUpdate")),
                "responses": {
                    "200": json_response("The changed customer", ref("CrmCustomer")),
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
            "CrmCustomerPage": page_of(ref("CrmCustomer")),
        }
    },
}
