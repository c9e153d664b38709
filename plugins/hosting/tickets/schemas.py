"""The tickets' part of the OpenAPI document (merged into the hosting plugin's fragment).

Bodies and query parameters are checked by ``services`` itself (one 422 naming each problem),
not by the document validator; the schemas describe exactly what those checks accept.
"""

from __future__ import annotations

from hashinsight_core.openapi import (
    PAGE_PARAMETERS,
    json_body,
    json_response,
    page_of,
    path_id,
    ref,
)
from plugins.hosting.tickets.models import (
    CATEGORIES,
    IMAGE_TYPES,
    PRIORITIES,
    REPAIR_KINDS,
    SOURCES,
    STATUSES,
)
from plugins.hosting.tickets.services import (
    BODY_MAX,
    BULK_ACTIONS,
    MAX_MINERS,
    NOTE_MAX,
    REPAIR_MINER_STATUSES,
    TITLE_MAX,
)

TAGS = ["hosting"]
NOT_FOUND = {"$ref": "#/components/responses/NotFound"}
FORBIDDEN = {"$ref": "#/components/responses/Forbidden"}
INVALID = {"$ref": "#/components/responses/HostingTicketInvalid"}
CONFLICT = {"$ref": "#/components/responses/HostingTicketConflict"}
DATETIME = {"type": "string", "format": "date-time"}
DATETIME_OR_NULL = {**DATETIME, "nullable": True}
ID_OR_NULL = {"type": "integer", "nullable": True}

CLOCK = {
    "type": "object",
    "properties": {
        "state": {"type": "string", "enum": ["met", "ok", "due_soon", "breached", "paused"]},
        "seconds_left": {"type": "integer", "description": "Negative: overdue"},
    },
}
COMMENT = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "ticket_id": {"type": "integer"},
        "author_id": ID_OR_NULL,
        "body": {"type": "string"},
        "internal": {"type": "boolean", "description": "Staff only; never shown to customers"},
        "created_at": DATETIME,
    },
}
EVENT = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "at": DATETIME,
        "actor_id": ID_OR_NULL,
        "kind": {"type": "string", "example": "status"},
        "from": {"type": "string"},
        "to": {"type": "string"},
        "note": {"type": "string"},
        "internal": {"type": "boolean"},
    },
}
ATTACHMENT = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "ticket_id": {"type": "integer"},
        "comment_id": ID_OR_NULL,
        "filename": {"type": "string"},
        "content_type": {"type": "string", "enum": list(IMAGE_TYPES)},
        "size": {"type": "integer"},
        "sha256": {"type": "string"},
        "internal": {"type": "boolean"},
        "created_at": DATETIME,
    },
}
TICKET = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "number": {"type": "string", "example": "T-000042"},
        "title": {"type": "string"},
        "category": {"type": "string", "enum": list(CATEGORIES)},
        "priority": {"type": "string", "enum": list(PRIORITIES)},
        "status": {"type": "string", "enum": list(STATUSES)},
        "source": {"type": "string", "enum": list(SOURCES)},
        "customer_id": ID_OR_NULL,
        "site_id": ID_OR_NULL,
        "zone_id": ID_OR_NULL,
        "opened_by_id": ID_OR_NULL,
        "assignee_id": {**ID_OR_NULL, "description": "Staff only"},
        "alert_rule_id": {**ID_OR_NULL, "description": "Staff only"},
        "incident_key": {"type": "string", "nullable": True, "description": "Staff only"},
        "created_at": DATETIME,
        "updated_at": DATETIME,
        "first_response_at": DATETIME_OR_NULL,
        "resolved_at": DATETIME_OR_NULL,
        "closed_at": DATETIME_OR_NULL,
        "response_due_at": DATETIME,
        "resolution_due_at": DATETIME,
        "paused_seconds": {"type": "integer"},
        "paused": {"type": "boolean", "description": "The SLA clock is stopped"},
        "response_breached": {"type": "boolean"},
        "resolution_breached": {"type": "boolean"},
        "sla": {
            "type": "object",
            "properties": {
                "response": ref("HostingTicketClock"),
                "resolution": ref("HostingTicketClock"),
            },
        },
        "miner_ids": {"type": "array", "items": {"type": "integer"}},
        "comments": {
            "type": "array",
            "items": ref("HostingTicketComment"),
            "description": "Detail only",
        },
        "events": {
            "type": "array",
            "items": ref("HostingTicketEvent"),
            "description": "Detail only",
        },
        "attachments": {
            "type": "array",
            "items": ref("HostingTicketAttachment"),
            "description": "Detail only",
        },
    },
}
TICKET_CREATE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title", "category"],
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": TITLE_MAX},
        "category": {"type": "string", "enum": list(CATEGORIES)},
        "priority": {"type": "string", "enum": list(PRIORITIES), "default": "normal"},
        "body": {"type": "string", "maxLength": BODY_MAX, "description": "The first comment"},
        "miner_ids": {
            "type": "array",
            "maxItems": MAX_MINERS,
            "items": {"type": "integer"},
            "description": "Miners of one customer and one site (customers: their own)",
        },
        "customer_id": {**ID_OR_NULL, "description": "Staff, for a ticket without miners"},
        "site_id": {**ID_OR_NULL, "description": "Staff, for a ticket without miners"},
    },
}
COMMENT_CREATE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["body"],
    "properties": {
        "body": {"type": "string", "minLength": 1, "maxLength": BODY_MAX},
        "internal": {"type": "boolean", "default": False, "description": "Staff only"},
    },
}
STATUS_CHANGE = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": {"type": "string", "enum": list(STATUSES)},
        "note": {"type": "string", "maxLength": NOTE_MAX},
    },
    "description": "open → in_progress → waiting_customer / waiting_parts → resolved → closed; "
    "resolved/closed → open reopens. Customers may only reopen or close their resolved tickets.",
}
ASSIGN = {
    "type": "object",
    "required": ["assignee_id"],
    "properties": {"assignee_id": {**ID_OR_NULL, "description": "A staff account; null: nobody"}},
}
UPDATE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"priority": {"type": "string", "enum": list(PRIORITIES)}},
}
BULK = {
    "type": "object",
    "additionalProperties": False,
    "required": ["ids", "action"],
    "properties": {
        "ids": {"type": "array", "items": {"type": "integer"}, "minItems": 1},
        "action": {"type": "string", "enum": list(BULK_ACTIONS)},
        "assignee_id": {**ID_OR_NULL, "description": "For assign"},
        "status": {"type": "string", "enum": list(STATUSES), "description": "For status"},
        "note": {"type": "string", "maxLength": NOTE_MAX},
    },
    "description": "All or nothing: one ticket the action cannot apply to refuses the batch.",
}
REPAIR_FIELDS = {
    "kind": {"type": "string", "enum": list(REPAIR_KINDS)},
    "part": {"type": "string", "maxLength": 100, "example": "hashboard 2"},
    "old_serial": {"type": "string", "maxLength": 100},
    "new_serial": {"type": "string", "maxLength": 100},
    "rma_number": {"type": "string", "maxLength": 100, "description": "Required for rma_sent"},
    "note": {"type": "string", "maxLength": 1000},
    "ticket_id": ID_OR_NULL,
}
REPAIR_CREATE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind"],
    "properties": {
        **REPAIR_FIELDS,
        "miner_status": {
            "type": "string",
            "enum": list(REPAIR_MINER_STATUSES),
            "description": "Move the miner (default: rma for rma_sent, maintenance for "
            "rma_returned)",
        },
    },
}
REPAIR = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "miner_id": {"type": "integer"},
        "ticket_number": {"type": "string", "nullable": True},
        **REPAIR_FIELDS,
        "at": DATETIME,
        "by_id": ID_OR_NULL,
    },
}


def _query(name, schema, description) -> dict:
    return {"name": name, "in": "query", "schema": schema, "description": description}


FILTERS = [
    _query(
        "status",
        {"type": "string", "enum": [*STATUSES, "active", "all"], "default": "active"},
        "active = not resolved or closed",
    ),
    _query("priority", {"type": "string", "enum": list(PRIORITIES)}, "Priority"),
    _query("category", {"type": "string", "enum": list(CATEGORIES)}, "Category"),
    _query("assignee_id", {"type": "string"}, "An account id, or none (staff only)"),
    _query("site_id", {"type": "integer"}, "Only this site"),
    _query("customer_id", {"type": "integer"}, "Only this customer"),
    _query("mine", {"type": "boolean"}, "Assigned to me (customers: opened by me)"),
    _query("breached", {"type": "boolean"}, "Only tickets that missed an SLA target"),
    _query("q", {"type": "string", "maxLength": 100}, "Part of the title, or a number T-000042"),
]


def _op(op_id, summary, responses, **extra) -> dict:
    return {"tags": TAGS, "operationId": op_id, "summary": summary, "responses": responses, **extra}


def _with_path_ids(paths: dict) -> dict:
    out = {}
    for path, item in paths.items():
        ids = [part[1:-1] for part in path.split("/") if part.startswith("{")]
        out[path] = {
            method: {**op, "parameters": [path_id(i) for i in ids] + op.get("parameters", [])}
            for method, op in item.items()
        }
    return out


ONE = json_response("The ticket, with comments, history and files", ref("HostingTicket"))
TICKET_API_PATHS = {
    "paths": _with_path_ids(
        {
            "/api/v1/hosting/tickets": {
                "get": _op(
                    "hosting.ticket.list",
                    "Tickets, most urgent first (customers: their own)",
                    {
                        "200": json_response("A page of tickets", page_of(ref("HostingTicket"))),
                        "422": INVALID,
                    },
                    parameters=FILTERS + PAGE_PARAMETERS,
                ),
                "post": _op(
                    "hosting.ticket.create",
                    "Open a ticket (audited; mails the assignee or the customer)",
                    {"201": ONE, "422": INVALID, "403": FORBIDDEN},
                    requestBody=json_body(
                        ref("HostingTicketCreate"),
                        {
                            "title": "Fan noise",
                            "category": "fan",
                            "priority": "normal",
                            "body": "Fan 2 rattles",
                            "miner_ids": [42],
                        },
                    ),
                ),
            },
            "/api/v1/hosting/tickets/bulk": {
                "post": _op(
                    "hosting.ticket.bulk",
                    "Assign, change the status of or close many tickets (all or nothing)",
                    {
                        "200": json_response(
                            "The changed tickets",
                            {
                                "type": "object",
                                "properties": {
                                    "items": {"type": "array", "items": ref("HostingTicket")}
                                },
                            },
                        ),
                        "409": CONFLICT,
                        "422": INVALID,
                        "403": FORBIDDEN,
                    },
                    requestBody=json_body(
                        ref("HostingTicketBulk"), {"ids": [1, 2], "action": "close"}
                    ),
                ),
            },
            "/api/v1/hosting/tickets/{ticket_id}": {
                "get": _op("hosting.ticket.get", "One ticket", {"200": ONE, "404": NOT_FOUND}),
                "patch": _op(
                    "hosting.ticket.update",
                    "Change the priority (its SLA targets follow)",
                    {"200": ONE, "404": NOT_FOUND, "422": INVALID, "403": FORBIDDEN},
                    requestBody=json_body(ref("HostingTicketUpdate")),
                ),
            },
            "/api/v1/hosting/tickets/{ticket_id}/comments": {
                "get": _op(
                    "hosting.ticket.comments",
                    "Comments, oldest first (customers: without internal notes)",
                    {
                        "200": json_response(
                            "Comments",
                            {
                                "type": "object",
                                "properties": {
                                    "items": {"type": "array", "items": ref("HostingTicketComment")}
                                },
                            },
                        ),
                        "404": NOT_FOUND,
                    },
                ),
                "post": _op(
                    "hosting.ticket.comment",
                    "Comment (staff: internal or visible; a visible reply is the first response)",
                    {
                        "201": json_response("The comment", ref("HostingTicketComment")),
                        "404": NOT_FOUND,
                        "403": FORBIDDEN,
                        "409": CONFLICT,
                        "422": INVALID,
                    },
                    requestBody=json_body(ref("HostingTicketCommentCreate")),
                ),
            },
            "/api/v1/hosting/tickets/{ticket_id}/status": {
                "post": _op(
                    "hosting.ticket.status",
                    "Move the ticket along its workflow (409 for an illegal move)",
                    {"200": ONE, "404": NOT_FOUND, "409": CONFLICT, "422": INVALID},
                    requestBody=json_body(ref("HostingTicketStatus"), {"status": "in_progress"}),
                ),
            },
            "/api/v1/hosting/tickets/{ticket_id}/assign": {
                "post": _op(
                    "hosting.ticket.assign",
                    "Give the ticket to a staff account",
                    {"200": ONE, "404": NOT_FOUND, "422": INVALID, "403": FORBIDDEN},
                    requestBody=json_body(ref("HostingTicketAssign"), {"assignee_id": 7}),
                ),
            },
            "/api/v1/hosting/tickets/{ticket_id}/attachments": {
                "get": _op(
                    "hosting.ticket.attachments",
                    "The ticket's images (customers: without internal ones)",
                    {
                        "200": json_response(
                            "Files",
                            {
                                "type": "object",
                                "properties": {
                                    "items": {
                                        "type": "array",
                                        "items": ref("HostingTicketAttachment"),
                                    }
                                },
                            },
                        ),
                        "404": NOT_FOUND,
                    },
                ),
                "post": _op(
                    "hosting.ticket.attach",
                    "Attach an image (PNG, JPEG, WebP or GIF by content; size limited)",
                    {
                        "201": json_response("The file", ref("HostingTicketAttachment")),
                        "404": NOT_FOUND,
                        "413": {"$ref": "#/components/responses/HostingTicketTooLarge"},
                        "415": {"$ref": "#/components/responses/HostingTicketNotImage"},
                        "422": INVALID,
                    },
                    requestBody={
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["file"],
                                    "properties": {
                                        "file": {"type": "string", "format": "binary"},
                                        "internal": {"type": "boolean"},
                                    },
                                }
                            }
                        },
                    },
                ),
            },
            "/api/v1/hosting/ticket-attachments/{attachment_id}": {
                "get": _op(
                    "hosting.ticket.attachment",
                    "The image itself, with its checked content type",
                    {
                        "200": {
                            "description": "The image",
                            "content": {
                                t: {"schema": {"type": "string", "format": "binary"}}
                                for t in IMAGE_TYPES
                            },
                        },
                        "404": NOT_FOUND,
                    },
                ),
                "delete": _op(
                    "hosting.ticket.detach",
                    "Remove an image (who added it, or staff; not on a closed ticket); "
                    "recorded in the history and the audit log",
                    {
                        "204": {"description": "Removed"},
                        "403": FORBIDDEN,
                        "404": NOT_FOUND,
                        "409": CONFLICT,
                    },
                ),
            },
            "/api/v1/hosting/miners/{miner_id}/repairs": {
                "get": _op(
                    "hosting.miner.repairs",
                    "The miner's repair log: its tickets and repair entries, newest first",
                    {
                        "200": json_response(
                            "Repair log",
                            {
                                "type": "object",
                                "properties": {
                                    "tickets": {"type": "array", "items": ref("HostingTicket")},
                                    "repairs": {"type": "array", "items": ref("HostingRepair")},
                                },
                            },
                        ),
                        "404": NOT_FOUND,
                    },
                ),
                "post": _op(
                    "hosting.miner.repair_add",
                    "Record a part swap, repair, RMA or note (RMA moves the miner to rma)",
                    {
                        "201": json_response("The entry", ref("HostingRepair")),
                        "404": NOT_FOUND,
                        "403": FORBIDDEN,
                        "422": INVALID,
                    },
                    requestBody=json_body(
                        ref("HostingRepairCreate"), {"kind": "rma_sent", "rma_number": "RMA-1001"}
                    ),
                ),
            },
        }
    ),
    "components": {
        "schemas": {
            "HostingTicket": TICKET,
            "HostingTicketClock": CLOCK,
            "HostingTicketCreate": TICKET_CREATE,
            "HostingTicketUpdate": UPDATE,
            "HostingTicketComment": COMMENT,
            "HostingTicketCommentCreate": COMMENT_CREATE,
            "HostingTicketEvent": EVENT,
            "HostingTicketAttachment": ATTACHMENT,
            "HostingTicketStatus": STATUS_CHANGE,
            "HostingTicketAssign": ASSIGN,
            "HostingTicketBulk": BULK,
            "HostingRepair": REPAIR,
            "HostingRepairCreate": REPAIR_CREATE,
        },
        "responses": {
            "HostingTicketInvalid": json_response(
                "Bad input: every problem named (field: message); nothing was stored",
                ref("Error"),
            ),
            "HostingTicketConflict": json_response(
                "Not possible in the ticket's state (an illegal move; a bulk batch refused "
                "whole, naming each ticket; removing a file from a closed ticket)",
                ref("Error"),
            ),
            "HostingTicketTooLarge": json_response("The file is too large", ref("Error")),
            "HostingTicketNotImage": json_response(
                "Not a PNG, JPEG, WebP or GIF image", ref("Error")
            ),
        },
    },
}
