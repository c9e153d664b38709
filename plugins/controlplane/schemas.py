"""The controlplane API (OpenAPI 3.0 fragment) and the JSON schema of each command's params."""

from hashinsight_core.openapi import (
    PAGE_PARAMETERS,
    json_body,
    json_response,
    page_of,
    path_id,
    ref,
)
from plugins.controlplane.states import CommandStatus

NO_PARAMS = {"type": "object", "additionalProperties": False, "properties": {}}

# What ``params`` must look like for each command type (JSON Schema, checked by the service so
# that the page form and the API give the same answer).
COMMAND_PARAMS: dict[str, dict] = {
    "reboot": NO_PARAMS,
    "sleep": NO_PARAMS,
    "wake": NO_PARAMS,
    "set_power_mode": {
        "type": "object",
        "required": ["mode"],
        "additionalProperties": False,
        "properties": {"mode": {"type": "string", "enum": ["eco", "normal", "turbo"]}},
    },
    "set_pool": {
        "type": "object",
        "required": ["url", "user"],
        "additionalProperties": False,
        "properties": {
            "url": {
                "type": "string",
                "maxLength": 300,
                # stratum+tcp://host:port (or stratum+ssl://); no spaces, a host is required.
                "pattern": r"^stratum\+(tcp|ssl)://[A-Za-z0-9.\-]+(:[0-9]{1,5})?(/\S*)?$",
            },
            "user": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"^\S+$"},
        },
    },
}
COMMAND_TYPES = tuple(COMMAND_PARAMS)
POWER_MODES = tuple(COMMAND_PARAMS["set_power_mode"]["properties"]["mode"]["enum"])

COMMAND = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "site_id": {"type": "integer"},
        "command_type": {"type": "string", "enum": list(COMMAND_TYPES)},
        "params": {"type": "object", "example": {"mode": "eco"}},
        "status": {"type": "string", "enum": [s.value for s in CommandStatus]},
        "requested_by_id": {"type": "integer", "nullable": True},
        "reason": {"type": "string"},
        "expires_at": {"type": "string", "format": "date-time"},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}

COMMAND_CREATE = {
    "type": "object",
    "required": ["site_id", "command_type"],
    "additionalProperties": False,
    "description": (
        "params by command_type: reboot, sleep, wake: {}; set_power_mode: "
        '{"mode": "eco" | "normal" | "turbo"}; set_pool: {"url": "stratum+tcp://host:port", '
        '"user": "account.worker"}'
    ),
    "properties": {
        "site_id": {"type": "integer", "example": 1},
        "command_type": {
            "type": "string",
            "enum": list(COMMAND_TYPES),
            "example": "set_power_mode",
        },
        "params": {"type": "object", "default": {}, "example": {"mode": "eco"}},
        "reason": {"type": "string", "maxLength": 500, "example": "Grid asked us to cut load"},
    },
}

API_PATHS = {
    "paths": {
        "/api/v1/controlplane/commands": {
            "get": {
                "tags": ["controlplane"],
                "summary": "List remote commands, newest first",
                "operationId": "controlplane.command.list",
                "parameters": [
                    {
                        "name": "status",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": [s.value for s in CommandStatus]},
                    },
                    {
                        "name": "site_id",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer"},
                    },
                    *PAGE_PARAMETERS,
                ],
                "responses": {
                    "200": json_response("One page of commands", ref("ControlplaneCommandPage")),
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "403": {"$ref": "#/components/responses/Forbidden"},
                },
            },
            "post": {
                "tags": ["controlplane"],
                "summary": "Request a remote command (starts PENDING, expires after a while)",
                "operationId": "controlplane.command.create",
                "requestBody": json_body(ref("ControlplaneCommandCreate")),
                "responses": {
                    "201": json_response("Created", ref("ControlplaneCommand")),
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "403": {"$ref": "#/components/responses/Forbidden"},
                    "422": {"$ref": "#/components/responses/BadRequest"},
                },
            },
        },
        "/api/v1/controlplane/commands/{command_id}/cancel": {
            "post": {
                "tags": ["controlplane"],
                "summary": "Cancel a command that has not finished",
                "operationId": "controlplane.command.cancel",
                "parameters": [path_id("command_id")],
                "responses": {
                    "200": json_response("The cancelled command", ref("ControlplaneCommand")),
                    "403": {"$ref": "#/components/responses/Forbidden"},
                    "404": {"$ref": "#/components/responses/NotFound"},
                    "409": {"$ref": "#/components/responses/BadRequest"},
                },
            }
        },
    },
    "components": {
        "schemas": {
            "ControlplaneCommand": COMMAND,
            "ControlplaneCommandCreate": COMMAND_CREATE,
            "ControlplaneCommandPage": page_of(ref("ControlplaneCommand")),
        }
    },
}
