"""The controlplane API (OpenAPI 3.0 fragment) and the JSON schema of each command's params."""

from hashinsight_core.openapi import (
    PAGE_PARAMETERS,
    error_response,
    json_body,
    json_response,
    page_of,
    path_id,
    ref,
)
from plugins.controlplane.states import CommandStatus
from plugins.hosting.tickets.models import CATEGORIES as TICKET_CATEGORIES
from plugins.hosting.tickets.models import PRIORITIES as TICKET_PRIORITIES
from plugins.hosting.tickets.models import STATUSES as TICKET_STATUSES

NO_PARAMS = {"type": "object", "additionalProperties": False, "properties": {}}

# What ``params`` must look like for each command type (JSON Schema, checked by the service so
# that the page form and the API give the same answer). The names and params are the edge
# collector's actions (docs/edge.md), so a command goes to the device unchanged.
COMMAND_PARAMS: dict[str, dict] = {
    "reboot": NO_PARAMS,
    "sleep": NO_PARAMS,
    "wake": NO_PARAMS,
    "set_work_mode": {
        "type": "object",
        "required": ["mode"],
        "additionalProperties": False,
        "properties": {"mode": {"type": "string", "enum": ["low", "normal", "high"]}},
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
            "password": {"type": "string", "maxLength": 100},
        },
    },
    "switch_pool": {
        "type": "object",
        "required": ["index"],
        "additionalProperties": False,
        "properties": {"index": {"type": "integer", "minimum": 0, "maximum": 63}},
    },
}
COMMAND_TYPES = tuple(COMMAND_PARAMS)
WORK_MODES = tuple(COMMAND_PARAMS["set_work_mode"]["properties"]["mode"]["enum"])

# Risk of each type unless a site says otherwise: low runs at once, medium needs one approval
# by a site's approver role, high the owning customer and the hosting provider.
DEFAULT_RISKS: dict[str, str] = {
    "reboot": "high",
    "sleep": "medium",
    "wake": "low",
    "set_work_mode": "medium",
    "set_pool": "high",
    "switch_pool": "medium",
}
RISK_LEVELS = ("low", "medium", "high")

TARGET = {
    "type": "object",
    "description": "Exactly one way of choosing the site's miners, resolved when asked.",
    "additionalProperties": False,
    "properties": {
        "miner_ids": {"type": "array", "items": {"type": "integer"}, "maxItems": 10000},
        "zone_id": {"type": "integer"},
        "customer_id": {"type": "integer"},
        "model": {"type": "string", "maxLength": 100},
    },
    "example": {"miner_ids": [12, 13]},
}

COMMAND = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "site_id": {"type": "integer"},
        "command_type": {"type": "string", "enum": list(COMMAND_TYPES)},
        "params": {"type": "object", "example": {"mode": "low"}},
        "status": {"type": "string", "enum": [s.value for s in CommandStatus]},
        "status_reason": {"type": "string"},
        "risk": {"type": "string", "enum": list(RISK_LEVELS)},
        "required_approvals": {"type": "array", "items": {"type": "string"}},
        "target": TARGET,
        "customer_id": {"type": "integer", "nullable": True},
        "digest": {"type": "string", "description": "SHA-256 of (type, params, miner ids)"},
        "requested_by_id": {"type": "integer", "nullable": True},
        "reason": {"type": "string"},
        "expires_at": {"type": "string", "format": "date-time"},
        "approved_at": {"type": "string", "format": "date-time", "nullable": True},
        "dispatched_at": {"type": "string", "format": "date-time", "nullable": True},
        "finished_at": {"type": "string", "format": "date-time", "nullable": True},
        "retry_of_id": {"type": "integer", "nullable": True},
        "miners": {
            "type": "object",
            "description": "miner status -> count",
            "example": {"completed": 3, "failed": 1},
        },
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}

COMMAND_DETAIL = {
    "allOf": [
        COMMAND,
        {
            "type": "object",
            "properties": {
                "targets": {"type": "array", "items": {"type": "object"}},
                "approvals": {"type": "array", "items": {"type": "object"}},
                "confirmed": {"type": "boolean"},
            },
        },
    ]
}

COMMAND_CREATE = {
    "type": "object",
    "required": ["site_id", "command_type", "target"],
    "additionalProperties": False,
    "description": (
        "params by command_type: reboot, sleep, wake: {}; set_work_mode: "
        '{"mode": "low" | "normal" | "high"}; set_pool: {"url": "stratum+tcp://host:port", '
        '"user": "account.worker", "password"?}; switch_pool: {"index": 0-63}'
    ),
    "properties": {
        "site_id": {"type": "integer", "example": 1},
        "command_type": {"type": "string", "enum": list(COMMAND_TYPES), "example": "reboot"},
        "params": {"type": "object", "default": {}, "example": {}},
        "target": TARGET,
        "reason": {"type": "string", "maxLength": 500, "example": "Hashboard 2 stuck"},
    },
}

REASON_BODY = {
    "required": False,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"reason": {"type": "string", "maxLength": 500}},
            },
            "example": {"reason": "Checked with the customer"},
        }
    },
}

POLICY = {
    "type": "object",
    "properties": {
        "site_id": {"type": "integer"},
        "risks": {"type": "object", "example": {"reboot": "high", "wake": "low"}},
        "approver_roles": {"type": "array", "items": {"type": "string"}, "example": ["admin"]},
        "allow_unsigned": {"type": "boolean"},
    },
}

_ERRORS = {
    "403": {"$ref": "#/components/responses/Forbidden"},
    "404": {"$ref": "#/components/responses/NotFound"},
    "409": {"$ref": "#/components/responses/BadRequest"},
    "422": {"$ref": "#/components/responses/BadRequest"},
}


def _action(summary: str, op: str) -> dict:
    return {
        "post": {
            "tags": ["controlplane"],
            "summary": summary,
            "operationId": op,
            "parameters": [path_id("command_id")],
            "requestBody": REASON_BODY,
            "responses": {
                "200": json_response("The command now", ref("ControlplaneCommandDetail")),
                **_ERRORS,
            },
        }
    }


def _device(method: str, summary: str, op: str, ok: str, *, path_param=False, body=False):
    operation = {
        "tags": ["controlplane"],
        "summary": summary,
        "operationId": op,
        # A path fixed by a collector wire contract (docs/controlplane.md).
        "x-wire-contract": True,
        "responses": {
            "200": {"description": ok},
            "401": error_response("No device token, or not a valid one"),
            "403": error_response("Revoked token, or a command of another zone"),
            "404": error_response("No such command"),
            "422": error_response("A bad acknowledgement"),
            "429": error_response("Over the device's quota"),
        },
    }
    if path_param:
        operation["parameters"] = [
            {"name": "target_id", "in": "path", "required": True, "schema": {"type": "string"}}
        ]
    if body:
        operation["requestBody"] = json_body(
            {"type": "object"},
            {
                "status": "completed",
                "result_code": "ok",
                "result_message": "rebooted",
                "miner_id": 12,
                "duration_ms": 45000,
                "before": {"online": True, "uptime_s": 86000},
                "after": {"online": True, "uptime_s": 30},
            },
        )
    else:
        operation["parameters"] = [
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": 500},
            }
        ]
    return {method: operation}


def _portal(method: str, summary: str, op: str, response: dict, **operation) -> dict:
    return {
        method: {
            "tags": ["portal"],
            "summary": summary,
            "operationId": op,
            # The customers' API (DESIGN.md): a fixed public path, not under the plugin's.
            "x-wire-contract": True,
            "responses": {
                "200": response,
                "401": error_response("Not logged in, or no valid API token"),
                "403": error_response("The token or role lacks the permission"),
                "404": error_response("Not found (or not yours)"),
                "422": error_response("Bad input"),
            },
            **operation,
        }
    }


MINER_ID = {"name": "miner_id", "in": "path", "required": True, "schema": {"type": "integer"}}
PORTAL_MINER_EXAMPLE = {
    "id": 12,
    "serial": "SN12",
    "model_name": "S19",
    "nominal_ths": 95.0,
    "site_id": 1,
    "zone_id": 3,
    "status": "online",
    "pool_url": "stratum+tcp://pool.example.com:3333",
    "pool_worker": "acme.12",
    "live": {"ts": "2026-12-03T10:00:00Z", "online": True, "hashrate_ths": 94.2, "uptime_s": 812},
}
PORTAL_COMMAND_CREATE = {
    "type": "object",
    "required": ["site_id", "command_type", "miner_ids"],
    "additionalProperties": False,
    "properties": {
        "site_id": {"type": "integer"},
        "command_type": {"type": "string", "enum": list(COMMAND_TYPES)},
        "params": {"type": "object", "default": {}},
        "miner_ids": {"type": "array", "items": {"type": "integer"}, "minItems": 1},
        "reason": {"type": "string", "maxLength": 500},
    },
}


def _page_example(item):
    return {"items": [item], "total": 1, "limit": 50, "offset": 0}


PORTAL_PATHS = {
    "/api/v1/portal/miners": _portal(
        "get",
        "Your miners, with their newest telemetry",
        "controlplane.portal.miners",
        {
            "description": "A page of miners",
            "content": {"application/json": {"example": _page_example(PORTAL_MINER_EXAMPLE)}},
        },
        parameters=[
            {"name": "status", "in": "query", "required": False, "schema": {"type": "string"}},
            {"name": "site_id", "in": "query", "required": False, "schema": {"type": "integer"}},
            {"name": "zone_id", "in": "query", "required": False, "schema": {"type": "integer"}},
            {"name": "model", "in": "query", "required": False, "schema": {"type": "string"}},
            *PAGE_PARAMETERS,
        ],
    ),
    "/api/v1/portal/miners/{miner_id}": _portal(
        "get",
        "One of your miners and its live status",
        "controlplane.portal.miner",
        {
            "description": "The miner",
            "content": {"application/json": {"example": PORTAL_MINER_EXAMPLE}},
        },
        parameters=[MINER_ID],
    ),
    "/api/v1/portal/miners/{miner_id}/telemetry": _portal(
        "get",
        "5-minute history of one of your miners (hours=1..168, default 24)",
        "controlplane.portal.miner_telemetry",
        {
            "description": "Points",
            "content": {
                "application/json": {
                    "example": {
                        "miner_id": 12,
                        "hours": 24,
                        "points": [
                            {
                                "bucket": "2026-12-03T09:55:00Z",
                                "hashrate_avg_ths": 94.1,
                                "power_avg_w": 3250.0,
                                "temp_max_c": 71.0,
                                "online_share": 1.0,
                            }
                        ],
                    }
                }
            },
        },
        parameters=[
            MINER_ID,
            {"name": "hours", "in": "query", "required": False, "schema": {"type": "integer"}},
        ],
    ),
    "/api/v1/portal/zones": _portal(
        "get",
        "The zones your miners are in: miners, online, hashrate",
        "controlplane.portal.zones",
        {
            "description": "Zones",
            "content": {
                "application/json": {
                    "example": {
                        "items": [
                            {
                                "id": 3,
                                "site_id": 1,
                                "name": "A1",
                                "miners": 40,
                                "online": 39,
                                "hashrate_ths": 3712.5,
                            }
                        ]
                    }
                }
            },
        },
    ),
    "/api/v1/portal/approvals": _portal(
        "get",
        "Commands waiting for your approval",
        "controlplane.portal.approvals",
        json_response("A page of commands", ref("ControlplaneCommandPage")),
        parameters=[*PAGE_PARAMETERS],
    ),
    "/api/v1/portal/approvals/{command_id}/approve": _portal(
        "post",
        "Approve a command for your miners",
        "controlplane.portal.approve",
        json_response("The command now", ref("ControlplaneCommandDetail")),
        parameters=[path_id("command_id")],
        requestBody=REASON_BODY,
    ),
    "/api/v1/portal/approvals/{command_id}/reject": _portal(
        "post",
        "Reject a command for your miners (reason required)",
        "controlplane.portal.reject",
        json_response("The command now", ref("ControlplaneCommandDetail")),
        parameters=[path_id("command_id")],
        requestBody=REASON_BODY,
    ),
    "/api/v1/portal/commands": {
        **_portal(
            "get",
            "Commands for your miners, newest first",
            "controlplane.portal.commands",
            json_response("A page of commands", ref("ControlplaneCommandPage")),
            parameters=[
                {
                    "name": "status",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": [s.value for s in CommandStatus]},
                },
                *PAGE_PARAMETERS,
            ],
        ),
        **_portal(
            "post",
            "Ask for a command on some of your miners (risky ones wait for the provider)",
            "controlplane.portal.command_create",
            json_response("The command", ref("ControlplaneCommandDetail")),
            requestBody=json_body(
                ref("PortalCommandCreate"),
                {
                    "site_id": 1,
                    "command_type": "reboot",
                    "miner_ids": [12],
                    "reason": "stuck board",
                },
            ),
        ),
    },
    "/api/v1/portal/commands/{command_id}": _portal(
        "get",
        "One of your commands: miners, results, approvals",
        "controlplane.portal.command",
        json_response("The command", ref("ControlplaneCommandDetail")),
        parameters=[path_id("command_id")],
    ),
}


PORTAL_TICKET_CREATE = {
    "type": "object",
    "required": ["title", "category"],
    "additionalProperties": False,
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 200},
        "category": {"type": "string", "enum": list(TICKET_CATEGORIES)},
        "priority": {"type": "string", "enum": list(TICKET_PRIORITIES), "default": "normal"},
        "body": {"type": "string", "maxLength": 10000, "description": "What happened"},
        "miner_ids": {"type": "array", "items": {"type": "integer"}, "maxItems": 500},
    },
}
PORTAL_COMMENT = {
    "type": "object",
    "required": ["body"],
    "additionalProperties": False,
    "properties": {"body": {"type": "string", "minLength": 1, "maxLength": 10000}},
}
TICKET_ID = path_id("ticket_id")
PORTAL_PATHS.update(
    {
        "/api/v1/portal/tickets": {
            **_portal(
                "get",
                "Your tickets, most urgent first (by default only those still open)",
                "controlplane.portal.tickets",
                json_response("A page of tickets", page_of(ref("HostingTicket"))),
                parameters=[
                    {
                        "name": "status",
                        "in": "query",
                        "required": False,
                        "description": "active (default), all, or one status",
                        "schema": {
                            "type": "string",
                            "enum": ["active", "all", *TICKET_STATUSES],
                            "default": "active",
                        },
                    },
                    *PAGE_PARAMETERS,
                ],
            ),
            **_portal(
                "post",
                "Open a ticket about some of your miners (the provider is told by e-mail)",
                "controlplane.portal.ticket_create",
                json_response("The new ticket (201)", ref("HostingTicket")),
                requestBody=json_body(
                    ref("PortalTicketCreate"),
                    {
                        "title": "Miner keeps rebooting",
                        "category": "psu",
                        "priority": "high",
                        "body": "SN12 restarts every few minutes since this morning",
                        "miner_ids": [12],
                    },
                ),
            ),
        },
        "/api/v1/portal/tickets/{ticket_id}": _portal(
            "get",
            "One of your tickets, with the comments and files meant for you",
            "controlplane.portal.ticket",
            json_response("The ticket", ref("HostingTicket")),
            parameters=[TICKET_ID],
        ),
        "/api/v1/portal/tickets/{ticket_id}/comments": _portal(
            "post",
            "Add a comment to one of your tickets (a reply puts a waiting ticket back to work)",
            "controlplane.portal.ticket_comment",
            json_response("The comment (201)", {"type": "object"}),
            parameters=[TICKET_ID],
            requestBody=json_body(ref("PortalTicketComment"), {"body": "Rebooted it, same thing"}),
        ),
    }
)


def _remote(method: str, summary: str, op: str, **operation) -> dict:
    return {
        method: {
            "tags": ["legacy"],
            "summary": summary + " (deprecated: see Sunset and Link)",
            "operationId": op,
            "deprecated": True,
            "x-wire-contract": True,
            "responses": {
                "200": {"description": '{"success": true, ...}'},
                "4XX": {"description": '{"success": false, "error", "code"}'},
            },
            **operation,
        }
    }


REMOTE_PATHS = {
    "/api/remote/miners": _remote("get", "Miners", "controlplane.remote.miners"),
    "/api/remote/commands": {
        **_remote("get", "Commands", "controlplane.remote.commands"),
        **_remote(
            "post",
            'Ask for a command: {"command", "miner_ids" | "miner_id", "site_id", "params"}',
            "controlplane.remote.command_create",
        ),
    },
    "/api/remote/commands/{command_id}": _remote(
        "get", "One command", "controlplane.remote.command", parameters=[path_id("command_id")]
    ),
    **{
        f"/api/remote/commands/{{command_id}}/{action}": _remote(
            "post",
            f"{action.title()} a command",
            f"controlplane.remote.{action}",
            parameters=[path_id("command_id")],
        )
        for action in ("approve", "reject", "cancel")
    },
}


API_PATHS = {
    "paths": {
        **PORTAL_PATHS,
        **REMOTE_PATHS,
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
                    {
                        "name": "awaiting_approval",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "boolean"},
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
                "summary": "Request a remote command for some miners of a site",
                "description": (
                    "Low-risk commands are approved at once; medium and high ones wait for "
                    "approvals (PENDING_APPROVAL). Expires after controlplane.command_ttl_minutes."
                ),
                "operationId": "controlplane.command.create",
                "requestBody": json_body(
                    ref("ControlplaneCommandCreate"),
                    {
                        "site_id": 1,
                        "command_type": "reboot",
                        "params": {},
                        "target": {"miner_ids": [12]},
                        "reason": "Hashboard 2 stuck",
                    },
                ),
                "responses": {
                    "201": json_response("Created", ref("ControlplaneCommandDetail")),
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "403": {"$ref": "#/components/responses/Forbidden"},
                    "422": {"$ref": "#/components/responses/BadRequest"},
                },
            },
        },
        "/api/v1/controlplane/commands/{command_id}": {
            "get": {
                "tags": ["controlplane"],
                "summary": "One command with its miners and approvals",
                "operationId": "controlplane.command.get",
                "parameters": [path_id("command_id")],
                "responses": {
                    "200": json_response("The command", ref("ControlplaneCommandDetail")),
                    "404": {"$ref": "#/components/responses/NotFound"},
                },
            }
        },
        "/api/v1/controlplane/commands/{command_id}/approve": _action(
            "Approve (not your own request; bound to the command's digest)",
            "controlplane.command.approve",
        ),
        "/api/v1/controlplane/commands/{command_id}/reject": _action(
            "Reject, with a reason", "controlplane.command.reject"
        ),
        "/api/v1/controlplane/commands/{command_id}/cancel": _action(
            "Cancel a command that has not finished", "controlplane.command.cancel"
        ),
        "/api/v1/controlplane/commands/{command_id}/retry": _action(
            "Ask again for the miners that did not succeed (a new command)",
            "controlplane.command.retry",
        ),
        "/api/v1/controlplane/sites/{site_id}/policy": {
            "get": {
                "tags": ["controlplane"],
                "summary": "A site's command rules (risk per type, approvers, unsigned)",
                "operationId": "controlplane.policy.get",
                "parameters": [path_id("site_id")],
                "responses": {"200": json_response("The rules", ref("ControlplanePolicy"))},
            },
            "put": {
                "tags": ["controlplane"],
                "summary": "Change a site's command rules (fields given only)",
                "operationId": "controlplane.policy.update",
                "parameters": [path_id("site_id")],
                "requestBody": json_body(
                    ref("ControlplanePolicy"),
                    {"risks": {"sleep": "low"}, "approver_roles": ["admin", "operator"]},
                ),
                "responses": {
                    "200": json_response("The rules", ref("ControlplanePolicy")),
                    **_ERRORS,
                },
            },
        },
        "/api/v1/controlplane/signing-key": {
            "get": {
                "tags": ["controlplane"],
                "summary": "The public key collectors check command signatures with",
                "operationId": "controlplane.signing_key",
                "responses": {"200": {"description": "algorithm, key_id, public_key (base64)"}},
            }
        },
        "/api/v1/edge/commands": _device(
            "get",
            "Our collector: approved, signed commands for the device's zone",
            "controlplane.edge.poll",
            '{"commands": [...]}',
        ),
        "/api/v1/edge/commands/{target_id}/ack": _device(
            "post",
            "Our collector: the result for one miner",
            "controlplane.edge.ack",
            '{"ok": true, "duplicate": false, "status": "completed"}',
            path_param=True,
            body=True,
        ),
        "/api/edge/v1/commands/poll": _device(
            "get",
            "Legacy collector: commands for the zone (204 when none)",
            "controlplane.edge.legacy_poll",
            '{"commands": [...]}',
        ),
        "/api/collector/commands/pending": _device(
            "get",
            "Legacy collector: commands for the zone",
            "controlplane.edge.legacy_pending",
            '{"success": true, "commands": [...]}',
        ),
        "/api/edge/v1/commands/{target_id}/ack": _device(
            "post",
            "Legacy collector: the result for one miner",
            "controlplane.edge.legacy_ack",
            '{"success": true, ...}',
            path_param=True,
            body=True,
        ),
        "/api/collector/commands/{target_id}/result": _device(
            "post",
            "Legacy collector: the result for one miner",
            "controlplane.edge.legacy_result",
            '{"success": true, ...}',
            path_param=True,
            body=True,
        ),
    },
    "components": {
        "schemas": {
            "PortalCommandCreate": PORTAL_COMMAND_CREATE,
            "PortalTicketCreate": PORTAL_TICKET_CREATE,
            "PortalTicketComment": PORTAL_COMMENT,
            "ControlplaneCommand": COMMAND,
            "ControlplaneCommandDetail": COMMAND_DETAIL,
            "ControlplaneCommandCreate": COMMAND_CREATE,
            "ControlplaneCommandPage": page_of(ref("ControlplaneCommand")),
            "ControlplanePolicy": POLICY,
        }
    },
}
