"""The KPI part's OpenAPI fragment: the report, the drill-down and the excused events.

Query parameters and bodies are checked by the KPI code itself (period.py, report.py,
events.py) so that each problem answers one 422 naming the parameter; the schemas describe
what those checks accept.
"""

from __future__ import annotations

from hashinsight_core.openapi import json_body, json_response, page_of, path_id, ref
from plugins.hosting.kpi.engine import GROUPS, HEALTH_STATES
from plugins.hosting.kpi.models import EVENT_KINDS
from plugins.hosting.kpi.period import PERIOD_CHOICES

TAGS = ["hosting"]
INVALID = {"$ref": "#/components/responses/HostingKpiInvalid"}
NOT_FOUND = {"$ref": "#/components/responses/NotFound"}
FORBIDDEN = {"$ref": "#/components/responses/Forbidden"}
RATIO = {"type": "number", "nullable": True, "description": "0..1; null when undefined"}
NUMBER_OR_NULL = {"type": "number", "nullable": True}


def _query(name, schema, description, required=False) -> dict:
    out = {"name": name, "in": "query", "schema": schema, "description": description}
    if required:
        out["required"] = True
    return out


PERIOD_PARAMETERS = [
    _query(
        "period",
        {"type": "string", "enum": list(PERIOD_CHOICES), "default": "7d"},
        "A preset ending at the last finished 5 minutes, or custom (from/to)",
    ),
    _query(
        "from",
        {"type": "string"},
        "Custom start (UTC): YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ",
    ),
    _query(
        "to",
        {"type": "string"},
        "Custom end (UTC, exclusive; a date counts in full). Default: now",
    ),
    _query("site_id", {"type": "integer", "minimum": 1}, "Only this site"),
]
REPORT_PARAMETERS = [
    *PERIOD_PARAMETERS,
    _query("group_by", {"type": "string", "enum": list(GROUPS), "default": "site"}, "Rows"),
]
DRILL_PARAMETERS = [
    *PERIOD_PARAMETERS,
    _query("group", {"type": "string", "enum": list(GROUPS)}, "The group to list", True),
    _query(
        "key",
        {"type": "string"},
        "The group's key (an id; a model name; 'none' for miners without a customer)",
        True,
    ),
]

FIGURES = {
    "miners": {"type": "integer", "description": "Expected miners in the period"},
    "expected_intervals": {"type": "integer", "description": "Expected 5-minute intervals"},
    "excused_intervals": {"type": "integer"},
    "reachable_intervals": {"type": "integer"},
    "hashing_intervals": {"type": "integer"},
    "reachable_uptime": RATIO,
    "hashing_uptime": RATIO,
    "reachable_uptime_excl": RATIO,
    "hashing_uptime_excl": RATIO,
    "hashrate_ths": {**NUMBER_OR_NULL, "description": "Average realized TH/s"},
    "nominal_ths": {**NUMBER_OR_NULL, "description": "Nominal TH/s of the expected miners"},
    "realized_ratio": RATIO,
    "j_per_th": {**NUMBER_OR_NULL, "description": "Over the intervals that reported power"},
    "energy_kwh": {"type": "number"},
    "capacity_kwh": NUMBER_OR_NULL,
    "capacity_basis": {"type": "string", "enum": ["capacity", "nameplate"]},
    "energy_ratio": RATIO,
}
HEALTH = {"type": "object", "properties": {s: {"type": "integer"} for s in HEALTH_STATES}}
TICKETS = {
    "type": "object",
    "properties": {
        "opened": {"type": "integer"},
        "closed": {"type": "integer"},
        "mttr_hours": NUMBER_OR_NULL,
        "sla_breaches": {"type": "integer"},
        "response_breaches": {"type": "integer"},
        "resolution_breaches": {"type": "integer"},
    },
}
PERIOD = {
    "type": "object",
    "properties": {
        "preset": {"type": "string"},
        "from": {"type": "string", "format": "date-time"},
        "to": {"type": "string", "format": "date-time"},
        "hours": {"type": "number"},
        "intervals": {"type": "integer"},
    },
}
SERIES = {
    "type": "object",
    "properties": {
        "days": {"type": "array", "items": {"type": "string", "format": "date"}},
        "total": {"type": "object", "additionalProperties": {"type": "array"}},
        "groups": {"type": "array", "items": {"type": "object"}},
    },
}
REPORT = {
    "type": "object",
    "properties": {
        "period": PERIOD,
        "group_by": {"type": "string", "enum": list(GROUPS)},
        "site_id": {"type": "integer", "nullable": True},
        "as_of": {"type": "string", "format": "date-time"},
        "total": {
            "type": "object",
            "properties": {**FIGURES, "health": HEALTH, "tickets": TICKETS},
        },
        "groups": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "key": {"type": "string"},
                    "label": {"type": "string"},
                    **FIGURES,
                    "health": HEALTH,
                    "tickets": TICKETS,
                },
            },
        },
        "series": SERIES,
        "tickets_available": {"type": "boolean"},
        "definitions": {"type": "object"},
    },
}
MINERS = {
    "type": "object",
    "properties": {
        "period": PERIOD,
        "group": {"type": "string", "enum": list(GROUPS)},
        "key": {"type": "string"},
        "label": {"type": "string", "nullable": True},
        "total": {"type": "object", "properties": FIGURES},
        "miners": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "miner_id": {"type": "integer"},
                    "serial": {"type": "string", "nullable": True},
                    "model_name": {"type": "string"},
                    "status": {"type": "string"},
                    "health": {"type": "string", "enum": list(HEALTH_STATES)},
                    **{k: v for k, v in FIGURES.items() if k not in ("miners", "capacity_basis")},
                },
            },
        },
    },
}
EVENT_FIELDS = {
    "kind": {"type": "string", "enum": list(EVENT_KINDS)},
    "site_id": {"type": "integer"},
    "zone_id": {"type": "integer", "nullable": True, "description": "None: the whole site"},
    "customer_id": {
        "type": "integer",
        "nullable": True,
        "description": "None: every customer there (customer accounts: always their own)",
    },
    "miner_ids": {
        "type": "array",
        "items": {"type": "integer"},
        "description": "Only these miners (empty: every miner of the place)",
    },
    "starts_at": {"type": "string", "format": "date-time"},
    "ends_at": {"type": "string", "format": "date-time", "nullable": True},
    "note": {"type": "string", "maxLength": 500},
}
EVENT_INPUT = {"type": "object", "additionalProperties": False, "properties": EVENT_FIELDS}
EVENT_CREATE = {**EVENT_INPUT, "required": ["kind", "site_id", "starts_at"]}
EVENT = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        **EVENT_FIELDS,
        "created_by": {"type": "integer", "nullable": True},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "deleted_at": {
            "type": "string",
            "format": "date-time",
            "nullable": True,
            "description": "Deleted events stay on record and no longer count",
        },
    },
}


def _op(op_id, summary, responses, **extra) -> dict:
    return {"tags": TAGS, "operationId": op_id, "summary": summary, "responses": responses, **extra}


ITEM = "/api/v1/hosting/excused-events/{event_id}"
API_PATHS = {
    "paths": {
        "/api/v1/hosting/kpi": {
            "get": _op(
                "hosting.kpi.report",
                "KPIs per site, zone, customer or model over a period (customers: their miners)",
                {"200": json_response("The report", ref("HostingKpiReport")), "422": INVALID},
                parameters=REPORT_PARAMETERS,
            )
        },
        "/api/v1/hosting/kpi/miners": {
            "get": _op(
                "hosting.kpi.miners",
                "The miners of one group with their own KPIs (drill-down)",
                {"200": json_response("The miners", ref("HostingKpiMiners")), "422": INVALID},
                parameters=DRILL_PARAMETERS,
            )
        },
        "/api/v1/hosting/excused-events": {
            "get": _op(
                "hosting.excused.list",
                "Excused events (customers: those affecting their miners)",
                {
                    "200": json_response("A page of events", page_of(ref("HostingExcusedEvent"))),
                    "422": INVALID,
                },
                parameters=[
                    _query("site_id", {"type": "integer", "minimum": 1}, "Only this site"),
                    _query("kind", {"type": "string", "enum": list(EVENT_KINDS)}, "Only this kind"),
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "Page size"),
                    _query("offset", {"type": "integer", "minimum": 0}, "Items to skip"),
                ],
            ),
            "post": _op(
                "hosting.excused.create",
                "Record an excused event (audited; customers: a pause of their own miners)",
                {
                    "201": json_response("The event", ref("HostingExcusedEvent")),
                    "403": FORBIDDEN,
                    "422": INVALID,
                },
                requestBody=json_body(ref("HostingExcusedEventCreate")),
            ),
        },
        ITEM: {
            "get": _op(
                "hosting.excused.get",
                "One excused event",
                {"200": json_response("The event", ref("HostingExcusedEvent")), "404": NOT_FOUND},
                parameters=[path_id("event_id")],
            ),
            "patch": _op(
                "hosting.excused.update",
                "Change an excused event (audited)",
                {
                    "200": json_response("The event", ref("HostingExcusedEvent")),
                    "403": FORBIDDEN,
                    "404": NOT_FOUND,
                    "409": json_response("The event was deleted", ref("Error")),
                    "422": INVALID,
                },
                parameters=[path_id("event_id")],
                requestBody=json_body(ref("HostingExcusedEventInput")),
            ),
            "delete": _op(
                "hosting.excused.delete",
                "Delete an excused event: it stops counting, the record stays (audited)",
                {"204": {"description": "Deleted"}, "403": FORBIDDEN, "404": NOT_FOUND},
                parameters=[path_id("event_id")],
            ),
        },
    },
    "components": {
        "schemas": {
            "HostingKpiReport": REPORT,
            "HostingKpiMiners": MINERS,
            "HostingExcusedEvent": EVENT,
            "HostingExcusedEventInput": EVENT_INPUT,
            "HostingExcusedEventCreate": EVENT_CREATE,
        },
        "responses": {
            "HostingKpiInvalid": json_response(
                "Bad input: the parameter or field is named; nothing was stored", ref("Error")
            ),
        },
    },
}
