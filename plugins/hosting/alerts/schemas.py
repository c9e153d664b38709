"""The alerts' part of the OpenAPI document (merged into the hosting plugin's fragment).

Request bodies and query parameters are checked by the alert code itself (rules.py and
services.py), not by the document validator, so that every problem with a rule answers one
422 naming each field; the schemas below describe exactly what those checks accept.
"""

from __future__ import annotations

import copy

from hashinsight_core.openapi import json_body, json_response, page_of, path_id, ref
from plugins.hosting.alerts.rules import (
    ALERT_STATUSES,
    KINDS,
    MAX_EMAILS,
    MAX_MINUTES,
    MAX_WINDOW,
    NOTE_MAX,
    RESOLUTIONS,
    SEVERITIES,
    SUBJECT_TYPES,
    WEBHOOK_EVENTS,
)

TAGS = ["hosting"]
INVALID = {"$ref": "#/components/responses/HostingAlertInvalid"}
NOT_FOUND = {"$ref": "#/components/responses/NotFound"}
FORBIDDEN = {"$ref": "#/components/responses/Forbidden"}
CONFLICT = {"$ref": "#/components/responses/HostingAlertConflict"}

KIND_HELP = (
    "offline — unreachable or no data (no threshold; for_minutes = how long); "
    "low_hashrate — below threshold % of nominal; high_temp — hottest sensor above threshold "
    "°C; fan_failure — a fan failed, or (threshold) slowest fan below threshold rpm; "
    "board_missing — at least threshold boards missing (default 1); pool_down — online but no "
    "accepted share in window_minutes (5-minute data); reject_rate — rejected shares above "
    "threshold % in window_minutes (5-minute data); device_silent — no upload from an edge "
    "device for for_minutes."
)

RULE_FIELDS = {
    "name": {"type": "string", "minLength": 1, "maxLength": 200, "example": "Hot miners, site 1"},
    "kind": {"type": "string", "enum": list(KINDS), "description": KIND_HELP},
    "severity": {"type": "string", "enum": list(SEVERITIES), "default": "warning"},
    "enabled": {"type": "boolean", "default": True},
    "site_id": {"type": "integer", "nullable": True, "description": "None: every site"},
    "zone_id": {"type": "integer", "nullable": True, "description": "Sets the site too"},
    "customer_id": {"type": "integer", "nullable": True},
    "model_name": {"type": "string", "maxLength": 100, "nullable": True, "example": "S19j Pro"},
    "threshold": {"type": "number", "nullable": True, "example": 85},
    "clear_threshold": {
        "type": "number",
        "nullable": True,
        "description": "Hysteresis: clears only past this value (default: the threshold)",
        "example": 80,
    },
    "for_minutes": {
        "type": "integer",
        "minimum": 0,
        "maximum": MAX_MINUTES,
        "description": "Fires after the condition held this long (default per kind)",
    },
    "clear_minutes": {
        "type": "integer",
        "minimum": 0,
        "maximum": MAX_MINUTES,
        "description": "Clears after the condition was false this long (default per kind)",
    },
    "window_minutes": {"type": "integer", "minimum": 5, "maximum": MAX_WINDOW, "default": 15},
    "email_to": {
        "type": "array",
        "maxItems": MAX_EMAILS,
        "items": {"type": "string", "format": "email"},
    },
    "email_roles": {
        "type": "array",
        "items": {"type": "string"},
        "description": "Accounts of these roles are mailed the alerts inside their scope",
        "example": ["operator"],
    },
    "webhook_url": {"type": "string", "maxLength": 500, "example": "https://ops.example/hook"},
    "open_ticket": {
        "type": "boolean",
        "default": False,
        "description": "Also open one ticket per incident (rule and subject)",
    },
}
RULE_INPUT = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        **RULE_FIELDS,
        "webhook_secret": {
            "type": "string",
            "minLength": 16,
            "maxLength": 128,
            "description": "Your own signing secret (else one is made and shown once)",
        },
        "rotate_webhook_secret": {"type": "boolean", "description": "Make a new secret"},
    },
}
RULE_CREATE = {**copy.deepcopy(RULE_INPUT), "required": ["name", "kind"]}
RULE = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        **{k: dict(v) for k, v in RULE_FIELDS.items()},
        "webhook_secret_set": {"type": "boolean"},
        "webhook_secret": {
            "type": "string",
            "description": "Only in the answer that made it (create, rotate)",
        },
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
    "description": "email_to, email_roles and webhook_url are shown to rule managers only.",
}
DATETIME_OR_NULL = {"type": "string", "format": "date-time", "nullable": True}
ALERT = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "rule_id": {"type": "integer", "nullable": True},
        "rule_name": {"type": "string"},
        "kind": {"type": "string", "enum": list(KINDS)},
        "severity": {"type": "string", "enum": list(SEVERITIES)},
        "subject_type": {"type": "string", "enum": list(SUBJECT_TYPES)},
        "subject_id": {"type": "integer"},
        "subject_label": {"type": "string", "example": "YNAHD4BBCJABC0123"},
        "site_id": {"type": "integer"},
        "zone_id": {"type": "integer"},
        "customer_id": {"type": "integer", "nullable": True},
        "status": {"type": "string", "enum": list(ALERT_STATUSES)},
        "value": {"type": "number", "nullable": True, "description": "When it fired"},
        "threshold": {"type": "number", "nullable": True},
        "since": {"type": "string", "format": "date-time"},
        "opened_at": {"type": "string", "format": "date-time"},
        "acknowledged_at": DATETIME_OR_NULL,
        "acknowledged_by": {"type": "integer", "nullable": True},
        "ack_note": {"type": "string"},
        "resolved_at": DATETIME_OR_NULL,
        "resolved_by": {"type": "integer", "nullable": True, "description": "None: cleared"},
        "resolve_note": {"type": "string"},
        "resolution": {"type": "string", "nullable": True, "enum": [*RESOLUTIONS, None]},
    },
}
NOTE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"note": {"type": "string", "maxLength": NOTE_MAX}},
}
SUMMARY = {
    "type": "object",
    "properties": {
        "open": {"type": "integer"},
        "acknowledged": {"type": "integer"},
        "active": {"type": "integer"},
        "by_severity": {
            "type": "object",
            "properties": {s: {"type": "integer"} for s in SEVERITIES},
        },
    },
}
DELIVERY = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "rule_id": {"type": "integer", "nullable": True},
        "event": {"type": "string", "enum": list(WEBHOOK_EVENTS)},
        "url": {"type": "string"},
        "status": {"type": "string", "enum": ["pending", "sent", "failed"]},
        "attempts": {"type": "integer"},
        "last_status_code": {"type": "integer", "nullable": True},
        "last_error": {"type": "string"},
        "alerts": {"type": "integer", "description": "How many alerts the body carried"},
        "created_at": {"type": "string", "format": "date-time"},
        "sent_at": DATETIME_OR_NULL,
    },
}


def _query(name, schema, description) -> dict:
    return {"name": name, "in": "query", "schema": schema, "description": description}


PAGE = [
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}, "Page size"),
    _query("offset", {"type": "integer", "minimum": 0, "default": 0}, "Items to skip"),
]
ALERT_FILTERS = [
    _query(
        "status",
        {"type": "string", "enum": [*ALERT_STATUSES, "active", "all"], "default": "active"},
        "active = open and acknowledged",
    ),
    _query("kind", {"type": "string", "enum": list(KINDS)}, "Rule kind"),
    _query("severity", {"type": "string", "enum": list(SEVERITIES)}, "Severity"),
    _query("subject_type", {"type": "string", "enum": list(SUBJECT_TYPES)}, "Miner or device"),
    *[
        _query(name, {"type": "integer", "minimum": 1}, f"Only this {name[:-3]}")
        for name in ("site_id", "zone_id", "customer_id", "rule_id", "subject_id")
    ],
    _query("since", {"type": "string", "format": "date-time"}, "Opened at or after (UTC)"),
    _query("until", {"type": "string", "format": "date-time"}, "Opened before (UTC)"),
    _query("q", {"type": "string", "maxLength": 100}, "Part of the serial or device name"),
]


def _op(op_id, summary, responses, **extra) -> dict:
    return {"tags": TAGS, "operationId": op_id, "summary": summary, "responses": responses, **extra}


def _with_path_ids(paths: dict) -> dict:
    """Each operation lists its path id itself (every item of a path is an operation)."""
    out = {}
    for path, item in paths.items():
        ids = [part[1:-1] for part in path.split("/") if part.startswith("{")]
        out[path] = {
            method: {**op, "parameters": [path_id(i) for i in ids] + op.get("parameters", [])}
            for method, op in item.items()
        }
    return out


ALERT_API_PATHS = {
    "paths": _with_path_ids(
        {
            "/api/v1/hosting/alert-rules": {
                "get": _op(
                    "hosting.alert_rule.list",
                    "Alert rules (customers: those for them)",
                    {"200": json_response("A page of rules", page_of(ref("HostingAlertRule")))},
                    parameters=PAGE,
                ),
                "post": _op(
                    "hosting.alert_rule.create",
                    "Create a rule",
                    {
                        "201": json_response(
                            "The rule (with its webhook secret, once)", ref("HostingAlertRule")
                        ),
                        "422": INVALID,
                        "403": FORBIDDEN,
                    },
                    requestBody=json_body(
                        ref("HostingAlertRuleCreate"),
                        {
                            "name": "Hot miners",
                            "kind": "high_temp",
                            "threshold": 85,
                            "clear_threshold": 80,
                        },
                    ),
                ),
            },
            "/api/v1/hosting/alert-rules/{rule_id}": {
                "get": _op(
                    "hosting.alert_rule.get",
                    "One rule",
                    {"200": json_response("The rule", ref("HostingAlertRule")), "404": NOT_FOUND},
                ),
                "patch": _op(
                    "hosting.alert_rule.update",
                    "Change a rule (disabling it resolves its open alerts)",
                    {
                        "200": json_response("The rule", ref("HostingAlertRule")),
                        "404": NOT_FOUND,
                        "422": INVALID,
                    },
                    requestBody=json_body(ref("HostingAlertRuleInput")),
                ),
                "delete": _op(
                    "hosting.alert_rule.delete",
                    "Delete a rule (its alerts stay in the history, resolved)",
                    {"204": {"description": "Deleted"}, "404": NOT_FOUND},
                ),
            },
            "/api/v1/hosting/alert-rules/{rule_id}/deliveries": {
                "get": _op(
                    "hosting.alert_rule.deliveries",
                    "The rule's webhook deliveries, newest first",
                    {
                        "200": json_response(
                            "A page of deliveries", page_of(ref("HostingAlertDelivery"))
                        ),
                        "404": NOT_FOUND,
                    },
                    parameters=PAGE,
                ),
            },
            "/api/v1/hosting/alerts": {
                "get": _op(
                    "hosting.alert.list",
                    "Alerts, newest first (customers: about their own miners)",
                    {
                        "200": json_response("A page of alerts", page_of(ref("HostingAlert"))),
                        "422": INVALID,
                    },
                    parameters=ALERT_FILTERS + PAGE,
                ),
            },
            "/api/v1/hosting/alerts/summary": {
                "get": _op(
                    "hosting.alert.summary",
                    "Counts of alerts not resolved, by status and severity",
                    {"200": json_response("Counts", ref("HostingAlertSummary"))},
                ),
            },
            "/api/v1/hosting/alerts/{alert_id}": {
                "get": _op(
                    "hosting.alert.get",
                    "One alert",
                    {"200": json_response("The alert", ref("HostingAlert")), "404": NOT_FOUND},
                ),
            },
            "/api/v1/hosting/alerts/{alert_id}/ack": {
                "post": _op(
                    "hosting.alert.ack",
                    "Acknowledge an open alert (audited)",
                    {
                        "200": json_response("The alert", ref("HostingAlert")),
                        "404": NOT_FOUND,
                        "409": CONFLICT,
                        "422": INVALID,
                    },
                    requestBody={
                        "required": False,
                        "content": {"application/json": {"schema": ref("HostingAlertNote")}},
                    },
                ),
            },
            "/api/v1/hosting/alerts/{alert_id}/resolve": {
                "post": _op(
                    "hosting.alert.resolve",
                    "Resolve an alert by hand (audited)",
                    {
                        "200": json_response("The alert", ref("HostingAlert")),
                        "404": NOT_FOUND,
                        "409": CONFLICT,
                        "422": INVALID,
                    },
                    requestBody={
                        "required": False,
                        "content": {"application/json": {"schema": ref("HostingAlertNote")}},
                    },
                ),
            },
        }
    ),
    "components": {
        "schemas": {
            "HostingAlertRule": RULE,
            "HostingAlertRuleInput": RULE_INPUT,
            "HostingAlertRuleCreate": RULE_CREATE,
            "HostingAlert": ALERT,
            "HostingAlertNote": NOTE,
            "HostingAlertSummary": SUMMARY,
            "HostingAlertDelivery": DELIVERY,
        },
        "responses": {
            "HostingAlertInvalid": json_response(
                "Bad input: every problem named (field: message); nothing was stored",
                ref("Error"),
            ),
            "HostingAlertConflict": json_response(
                "The alert is not in a state that allows this", ref("Error")
            ),
        },
    },
}


def with_alert_paths(fragment: dict) -> dict:
    """``fragment`` (the hosting plugin's) with the alerts' paths and components added."""
    merged = {
        "paths": {**fragment.get("paths", {}), **ALERT_API_PATHS["paths"]},
        "components": {k: dict(v) for k, v in fragment.get("components", {}).items()},
    }
    for kind, entries in ALERT_API_PATHS["components"].items():
        merged["components"].setdefault(kind, {}).update(entries)
    return merged
