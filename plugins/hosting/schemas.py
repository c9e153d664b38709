"""The hosting plugin's part of the OpenAPI document."""

from hashinsight_core.openapi import (
    PAGE_PARAMETERS,
    json_body,
    json_response,
    page_of,
    path_id,
    ref,
)

BAD = {"$ref": "#/components/responses/BadRequest"}
NOT_FOUND = {"$ref": "#/components/responses/NotFound"}
FORBIDDEN = {"$ref": "#/components/responses/Forbidden"}
ERROR = {"$ref": "#/components/schemas/Error"}

SITE = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "timezone": {"type": "string", "example": "Asia/Almaty"},
        "capacity_kw": {"type": "number", "example": 25000},
        "location": {"type": "string", "nullable": True, "example": "Ekibastuz, Kazakhstan"},
        "tariff_per_kwh": {"type": "number", "nullable": True, "example": 0.045},
        "tariff_currency": {"type": "string", "example": "USD"},
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
        "location": {"type": "string", "maxLength": 200},
        "tariff_per_kwh": {"type": "number", "minimum": 0, "maximum": 10, "nullable": True},
        "tariff_currency": {"type": "string", "pattern": "^[A-Za-z]{3}$", "example": "USD"},
    },
}

ZONE = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "site_id": {"type": "integer"},
        "name": {"type": "string", "example": "Container 3"},
        "capacity_kw": {"type": "number", "example": 1200},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
ZONE_CREATE = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "capacity_kw": {"type": "number", "minimum": 0},
    },
}
RACK = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "site_id": {"type": "integer"},
        "zone_id": {"type": "integer"},
        "name": {"type": "string", "example": "R12"},
        "rows": {"type": "integer"},
        "slots": {"type": "integer"},
    },
}
RACK_CREATE = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 50},
        "rows": {"type": "integer", "minimum": 1, "maximum": 200},
        "slots": {"type": "integer", "minimum": 1, "maximum": 200},
    },
}

STATUSES = [
    "unassigned",
    "received",
    "installed",
    "online",
    "offline",
    "maintenance",
    "rma",
    "retired",
]

MINER = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "serial": {"type": "string", "nullable": True, "example": "YNAHD4BBCJABC0123"},
        "mac": {"type": "string", "nullable": True, "example": "aa:bb:cc:dd:ee:ff"},
        "miner_key": {"type": "string", "nullable": True},
        "asic_model_id": {"type": "integer", "nullable": True},
        "model_name": {"type": "string", "example": "Antminer S19j Pro"},
        "nominal_ths": {"type": "number", "nullable": True},
        "nominal_w": {"type": "number", "nullable": True},
        "firmware": {"type": "string"},
        "customer_id": {"type": "integer", "nullable": True},
        "site_id": {"type": "integer"},
        "zone_id": {"type": "integer"},
        "rack_id": {"type": "integer", "nullable": True},
        "rack_row": {"type": "integer", "nullable": True},
        "rack_slot": {"type": "integer", "nullable": True},
        "pool_url": {"type": "string"},
        "pool_worker": {"type": "string"},
        "status": {"type": "string", "enum": STATUSES},
        "status_changed_at": {"type": "string", "format": "date-time"},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}

_TEXT_OR_NUMBER = {"oneOf": [{"type": "string"}, {"type": "number"}], "nullable": True}
MINER_FIELDS = {
    "serial": {"type": "string", "maxLength": 64, "example": "YNAHD4BBCJABC0123"},
    "mac": {"type": "string", "maxLength": 32, "nullable": True},
    "asic_model_id": {"type": "integer", "nullable": True},
    "model": {"type": "string", "maxLength": 100, "example": "Antminer S19j Pro"},
    "nominal_ths": {"type": "number", "nullable": True},
    "nominal_w": {"type": "number", "nullable": True},
    "firmware": {"type": "string", "maxLength": 100},
    "customer_id": {"type": "integer", "nullable": True},
    "customer": {"type": "string", "description": "Customer name (instead of customer_id)"},
    "zone_id": {"type": "integer"},
    "site": {"type": "string", "description": "Site name or id (with zone)"},
    "zone": {"type": "string", "description": "Zone name in the site"},
    "rack": {**_TEXT_OR_NUMBER, "description": "Rack name or id in the zone"},
    "row": {"type": "integer", "nullable": True},
    "slot": {"type": "integer", "nullable": True},
    "pool_url": {"type": "string", "maxLength": 300},
    "pool_worker": {"type": "string", "maxLength": 200},
    "ip": {
        "type": "string",
        "maxLength": 45,
        "nullable": True,
        "description": "The miner's address; kept only at sites whose credential mode is "
        "'masked', shown and searched only with hosting:miner:ip:read",
    },
    "status": {"type": "string", "enum": STATUSES[1:6]},
}
MINER_CREATE = {
    "type": "object",
    "additionalProperties": False,
    "description": (
        "One miner. The zone is zone_id, or site and zone names; the model is a catalogue "
        "asic_model_id or a model name. Problems answer 422 naming each column."
    ),
    "properties": MINER_FIELDS,
}
MINER_BATCH = {
    "type": "object",
    "required": ["miners"],
    "additionalProperties": False,
    "properties": {
        "miners": {
            "type": "array",
            "minItems": 1,
            "maxItems": 10000,
            # Checked row by row by the service (the answer names each row and column);
            # the fields are those of HostingMinerCreate.
            "items": {"type": "object"},
        }
    },
}
MINER_UPDATE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        **{k: v for k, v in MINER_FIELDS.items() if k not in ("status", "site", "zone")},
        "status": {"type": "string", "enum": STATUSES[1:]},
        "note": {"type": "string", "maxLength": 300},
    },
}
HISTORY = {
    "type": "object",
    "properties": {
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "miner_id": {"type": "integer"},
                    "at": {"type": "string", "format": "date-time"},
                    "actor": {"type": "string", "example": "user:3"},
                    "kind": {
                        "type": "string",
                        "enum": ["create", "status", "move", "owner", "edit"],
                    },
                    "from": {"type": "string"},
                    "to": {"type": "string"},
                    "note": {"type": "string"},
                },
            },
        }
    },
}
DEVICE = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "site_id": {"type": "integer"},
        "zone_id": {"type": "integer"},
        "token_prefix": {"type": "string", "example": "hie_Xy12ab"},
        "token": {"type": "string", "description": "Only in the answer that made it"},
        "active": {"type": "boolean"},
        "rotated_at": {"type": "string", "format": "date-time", "nullable": True},
        "revoked_at": {"type": "string", "format": "date-time", "nullable": True},
        "last_seen_at": {"type": "string", "format": "date-time", "nullable": True},
        "version": {"type": "string"},
        "edge_uid": {"type": "string"},
        "spool_depth": {"type": "integer", "nullable": True},
        "dropped_total": {"type": "integer", "nullable": True},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
DEVICE_CREATE = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 100}},
}
CANDIDATE = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "site_id": {"type": "integer"},
        "zone_id": {"type": "integer"},
        "device_id": {"type": "integer", "nullable": True},
        "miner_key": {"type": "string"},
        "serial": {"type": "string"},
        "mac": {"type": "string"},
        "vendor": {"type": "string"},
        "model_name": {"type": "string"},
        "firmware": {"type": "string"},
        "first_seen_at": {"type": "string", "format": "date-time"},
        "last_seen_at": {"type": "string", "format": "date-time"},
        "seen_count": {"type": "integer"},
        "status": {"type": "string", "enum": ["new", "adopted", "ignored"]},
        "miner_id": {"type": "integer", "nullable": True},
    },
}
ADOPT = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        k: MINER_FIELDS[k]
        for k in (
            "serial",
            "mac",
            "model",
            "asic_model_id",
            "nominal_ths",
            "nominal_w",
            "customer_id",
            "zone_id",
            "rack",
            "row",
            "slot",
            "status",
        )
    },
}

EDGE_RESULT = {
    "type": "object",
    "properties": {
        "received": {"type": "integer"},
        "accepted": {"type": "integer", "description": "Rows stored"},
        "rejected": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": "integer"},
                    "seq": {"type": "integer"},
                    "reason": {
                        "type": "string",
                        "example": "temp_max_c: nan is not a finite number",
                    },
                },
            },
        },
        "candidates": {"type": "integer", "description": "Unknown miners held for adoption"},
        "adopted": {"type": "integer"},
        "duplicate": {"type": "boolean", "description": "A replay: nothing new was stored"},
    },
}
GZIP_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"type": "object"}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    },
}


def _edge_responses(ok: str) -> dict:
    return {
        "200": json_response(ok, ref("HostingEdgeResult")),
        "400": json_response("Not gzip/JSON, bad header", ERROR),
        "401": json_response("No device token, or not a valid one", ERROR),
        "403": json_response("Revoked token; another site or zone named", ERROR),
        "413": json_response("Too big: compressed, inflated or too many records", ERROR),
        "422": json_response("Bad batch; every record rejected; key reused", ERROR),
        "429": json_response("Over the device's quota (see Retry-After)", ERROR),
    }


def _item(summary, op, param, response, schema_ok="200"):
    return {
        "tags": ["hosting"],
        "summary": summary,
        "operationId": op,
        "parameters": [path_id(param)],
        "responses": {schema_ok: response, "404": NOT_FOUND},
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
                    "400": BAD,
                    "403": FORBIDDEN,
                },
            },
            "post": {
                "tags": ["hosting"],
                "summary": "Create a site",
                "operationId": "hosting.site.create",
                "requestBody": json_body(ref("HostingSiteCreate")),
                "responses": {
                    "201": json_response("Created", ref("HostingSite")),
                    "400": BAD,
                    "409": BAD,
                    "422": BAD,
                },
            },
        },
        "/api/v1/hosting/sites/{site_id}": {
            "get": _item(
                "One site",
                "hosting.site.get",
                "site_id",
                json_response("The site", ref("HostingSite")),
            ),
            "delete": {
                **_item(
                    "Delete an empty site",
                    "hosting.site.delete",
                    "site_id",
                    {"description": "Deleted"},
                    "204",
                ),
            },
        },
        "/api/v1/hosting/sites/{site_id}/zones": {
            "get": {
                "tags": ["hosting"],
                "summary": "Zones of a site",
                "operationId": "hosting.zone.list",
                "parameters": [path_id("site_id")] + PAGE_PARAMETERS,
                "responses": {
                    "200": json_response("Zones", page_of(ref("HostingZone"))),
                    "404": NOT_FOUND,
                },
            },
            "post": {
                "tags": ["hosting"],
                "summary": "Add a zone",
                "operationId": "hosting.zone.create",
                "parameters": [path_id("site_id")],
                "requestBody": json_body(ref("HostingZoneCreate")),
                "responses": {
                    "201": json_response("Created", ref("HostingZone")),
                    "400": BAD,
                    "404": NOT_FOUND,
                    "409": BAD,
                    "422": BAD,
                },
            },
        },
        "/api/v1/hosting/zones/{zone_id}": {
            "get": _item(
                "One zone",
                "hosting.zone.get",
                "zone_id",
                json_response("The zone", ref("HostingZone")),
            ),
            "delete": _item(
                "Delete an empty zone",
                "hosting.zone.delete",
                "zone_id",
                {"description": "Deleted"},
                "204",
            ),
        },
        "/api/v1/hosting/zones/{zone_id}/racks": {
            "get": {
                "tags": ["hosting"],
                "summary": "Racks of a zone",
                "operationId": "hosting.rack.list",
                "parameters": [path_id("zone_id")] + PAGE_PARAMETERS,
                "responses": {
                    "200": json_response("Racks", page_of(ref("HostingRack"))),
                    "404": NOT_FOUND,
                },
            },
            "post": {
                "tags": ["hosting"],
                "summary": "Add a rack",
                "operationId": "hosting.rack.create",
                "parameters": [path_id("zone_id")],
                "requestBody": json_body(ref("HostingRackCreate")),
                "responses": {
                    "201": json_response("Created", ref("HostingRack")),
                    "400": BAD,
                    "404": NOT_FOUND,
                    "409": BAD,
                },
            },
        },
        "/api/v1/hosting/miners": {
            "get": {
                "tags": ["hosting"],
                "summary": "List miners (the account's own part of the farm)",
                "operationId": "hosting.miner.list",
                "parameters": PAGE_PARAMETERS
                + [
                    {"name": n, "in": "query", "schema": {"type": "integer", "minimum": 1}}
                    for n in ("site_id", "zone_id", "customer_id", "rack_id")
                ]
                + [
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "enum": STATUSES},
                    },
                    {
                        "name": "model",
                        "in": "query",
                        "schema": {"type": "string", "maxLength": 100},
                    },
                    {
                        "name": "q",
                        "in": "query",
                        "description": "Serial prefix, MAC, miner key or worker",
                        "schema": {"type": "string", "maxLength": 100},
                    },
                ],
                "responses": {
                    "200": json_response("Miners, by id", page_of(ref("HostingMiner"))),
                    "400": BAD,
                },
            },
            "post": {
                "tags": ["hosting"],
                "summary": "Add one miner",
                "operationId": "hosting.miner.create",
                "requestBody": json_body(ref("HostingMinerCreate")),
                "responses": {
                    "201": json_response("Created", ref("HostingMiner")),
                    "400": BAD,
                    "422": BAD,
                },
            },
        },
        "/api/v1/hosting/miners/batch": {
            "post": {
                "tags": ["hosting"],
                "summary": "Add up to 10,000 miners, all or none",
                "operationId": "hosting.miner.batch_create",
                "requestBody": json_body(ref("HostingMinerBatch")),
                "responses": {
                    "201": json_response(
                        "All created",
                        {
                            "type": "object",
                            "properties": {
                                "created": {"type": "integer"},
                                "ids": {"type": "array", "items": {"type": "integer"}},
                            },
                        },
                    ),
                    "400": BAD,
                    "422": json_response(
                        "Bad rows (details: row, column, message); none saved", ERROR
                    ),
                },
            }
        },
        "/api/v1/hosting/miners/{miner_id}": {
            "get": _item(
                "One miner",
                "hosting.miner.get",
                "miner_id",
                json_response("The miner", ref("HostingMiner")),
            ),
            "patch": {
                "tags": ["hosting"],
                "summary": "Move, re-own or change the status of a miner",
                "operationId": "hosting.miner.update",
                "parameters": [path_id("miner_id")],
                "requestBody": json_body(ref("HostingMinerUpdate")),
                "responses": {
                    "200": json_response("The miner", ref("HostingMiner")),
                    "400": BAD,
                    "404": NOT_FOUND,
                    "409": BAD,
                    "422": BAD,
                },
            },
        },
        "/api/v1/hosting/miners/{miner_id}/history": {
            "get": _item(
                "A miner's history, newest first",
                "hosting.miner.history",
                "miner_id",
                json_response("Events", HISTORY),
            ),
        },
        "/api/v1/hosting/devices": {
            "get": {
                "tags": ["hosting"],
                "summary": "Edge devices",
                "operationId": "hosting.device.list",
                "parameters": PAGE_PARAMETERS,
                "responses": {"200": json_response("Devices", page_of(ref("HostingEdgeDevice")))},
            }
        },
        "/api/v1/hosting/zones/{zone_id}/devices": {
            "post": {
                "tags": ["hosting"],
                "summary": "Register an edge device for a zone (the token is shown once)",
                "operationId": "hosting.device.create",
                "parameters": [path_id("zone_id")],
                "requestBody": json_body(ref("HostingEdgeDeviceCreate")),
                "responses": {
                    "201": json_response("Created, with its token", ref("HostingEdgeDevice")),
                    "400": BAD,
                    "404": NOT_FOUND,
                    "409": BAD,
                },
            }
        },
        "/api/v1/hosting/devices/{device_id}/rotate": {
            "post": _item(
                "A new token (the old one stops)",
                "hosting.device.rotate",
                "device_id",
                json_response("The device with its new token", ref("HostingEdgeDevice")),
            ),
        },
        "/api/v1/hosting/devices/{device_id}/revoke": {
            "post": _item(
                "Revoke the device's token",
                "hosting.device.revoke",
                "device_id",
                json_response("The device", ref("HostingEdgeDevice")),
            ),
        },
        "/api/v1/hosting/discovery": {
            "get": {
                "tags": ["hosting"],
                "summary": "Miners the edge devices found that are not in the inventory",
                "operationId": "hosting.discovery.list",
                "parameters": PAGE_PARAMETERS
                + [
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["new", "adopted", "ignored", "all"]},
                    },
                    {"name": "zone_id", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                ],
                "responses": {
                    "200": json_response("Candidates", page_of(ref("HostingDiscoveryCandidate")))
                },
            }
        },
        "/api/v1/hosting/discovery/{candidate_id}/adopt": {
            "post": {
                "tags": ["hosting"],
                "summary": "Adopt a candidate as a miner",
                "operationId": "hosting.discovery.adopt",
                "parameters": [path_id("candidate_id")],
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": ref("HostingAdopt")}},
                },
                "responses": {
                    "201": json_response("The new miner", ref("HostingMiner")),
                    "400": BAD,
                    "404": NOT_FOUND,
                    "422": BAD,
                },
            }
        },
        "/api/v1/hosting/discovery/{candidate_id}/ignore": {
            "post": _item(
                "Ignore a candidate",
                "hosting.discovery.ignore",
                "candidate_id",
                json_response("The candidate", ref("HostingDiscoveryCandidate")),
            ),
        },
        "/api/v1/edge/telemetry": {
            "post": {
                "tags": ["hosting"],
                "summary": "Telemetry batch of the HashInsight edge collector (gzip JSON)",
                "description": (
                    "Authorization: Bearer <device token>; Idempotency-Key: <batch_id>; "
                    "Content-Encoding: gzip. Body: hashinsight.edge.telemetry.v1 (docs/edge.md)."
                ),
                "operationId": "hosting.edge.telemetry",
                # A path fixed by a collector wire contract, not under /api/v1/hosting/.
                "x-wire-contract": True,
                "requestBody": GZIP_BODY,
                "responses": _edge_responses("Stored (or a replay of a stored batch)"),
            }
        },
        "/api/v1/edge/discovery": {
            "post": {
                "tags": ["hosting"],
                "summary": "Scan report: unknown miners become discovery candidates",
                "operationId": "hosting.edge.discovery",
                # A path fixed by a collector wire contract, not under /api/v1/hosting/.
                "x-wire-contract": True,
                "requestBody": GZIP_BODY,
                "responses": _edge_responses("Recorded"),
            }
        },
        "/api/collector/upload": {
            "post": {
                "tags": ["hosting"],
                "summary": "Legacy HashInsight collector upload (gzip JSON array of records)",
                "description": "X-Collector-Key or Bearer; X-Site-ID, X-Zone-ID, X-Upload-Mode",
                "operationId": "hosting.edge.legacy_upload",
                # A path fixed by a collector wire contract, not under /api/v1/hosting/.
                "x-wire-contract": True,
                "requestBody": GZIP_BODY,
                "responses": _edge_responses('{"success": true, ...}'),
            }
        },
        "/api/edge/v1/telemetry/batch": {
            "post": {
                "tags": ["hosting"],
                "summary": "Legacy telemetry_envelope.v1 batch",
                "operationId": "hosting.edge.legacy_batch",
                # A path fixed by a collector wire contract, not under /api/v1/hosting/.
                "x-wire-contract": True,
                "requestBody": GZIP_BODY,
                "responses": _edge_responses('{"success": true, ...}'),
            }
        },
    },
    "components": {
        "schemas": {
            "HostingSite": SITE,
            "HostingSiteCreate": SITE_CREATE,
            "HostingZone": ZONE,
            "HostingZoneCreate": ZONE_CREATE,
            "HostingRack": RACK,
            "HostingRackCreate": RACK_CREATE,
            "HostingMiner": MINER,
            "HostingMinerCreate": MINER_CREATE,
            "HostingMinerBatch": MINER_BATCH,
            "HostingMinerUpdate": MINER_UPDATE,
            "HostingEdgeDevice": DEVICE,
            "HostingEdgeDeviceCreate": DEVICE_CREATE,
            "HostingDiscoveryCandidate": CANDIDATE,
            "HostingAdopt": ADOPT,
            "HostingEdgeResult": EDGE_RESULT,
        }
    },
}

# --- monitoring (plugins/hosting/monitor.py) -------------------------------------------------


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "description": description, "schema": schema}


_ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
_NUM = {"type": "number", "nullable": True}
_SERIES = {"type": "array", "items": _NUM}
_TIMES = {"type": "array", "items": {"type": "integer"}, "description": "Unix time, ms (UTC)"}
MONITOR_STATE = {"type": "string", "enum": ["online", "warning", "offline", "nodata"]}
MONITOR_FLEET = {
    "type": "object",
    "properties": {
        "as_of": {"type": "string", "format": "date-time"},
        "newest_poll": {"type": "string", "format": "date-time", "nullable": True},
        "age_s": {"type": "integer", "nullable": True, "description": "Age of the newest poll"},
        "miners": {"type": "integer", "description": "Miners that ever reported"},
        "online": {"type": "integer", "description": "Answering, fresh (warnings included)"},
        "warning": {"type": "integer"},
        "offline": {"type": "integer"},
        "nodata": {"type": "integer", "description": "In the inventory, never reported"},
        "hashrate_ths": {"type": "number"},
        "nominal_ths": {"type": "number"},
        "realized_ratio": _NUM,
        "power_w": {"type": "number"},
        "power_reporting": {"type": "integer", "description": "Online miners reporting power"},
        "j_per_th": {**_NUM, "description": "Power over hashrate of those miners"},
        "sites": {"type": "array", "items": {"type": "object"}},
        "series": {
            "type": "object",
            "description": "5-minute fleet totals over the last 24 hours",
            "properties": {
                "t": _TIMES,
                "hashrate_ths": _SERIES,
                "nominal_ths": _SERIES,
                "power_w": _SERIES,
            },
        },
    },
}
MONITOR_LIVE_ITEM = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "label": {"type": "string", "description": "Serial, else MAC, else #id"},
        "model": {"type": "string"},
        "site": {"type": "string"},
        "zone": {"type": "string"},
        "position": {"type": "string", "example": "R1/2/5"},
        "customer": {"type": "string"},
        "lifecycle": {"type": "string"},
        "state": MONITOR_STATE,
        "seen": {"type": "string", "format": "date-time", "nullable": True},
        "age_s": {"type": "integer", "nullable": True},
        "hashrate_ths": _NUM,
        "nominal_ths": _NUM,
        "ratio": _NUM,
        "power_w": _NUM,
        "j_per_th": _NUM,
        "temp_max_c": _NUM,
        "fan_min_rpm": {"type": "integer", "nullable": True},
        "fans_failed": {"type": "integer", "nullable": True},
        "boards": {"type": "string", "example": "3/3"},
        "error_class": {"type": "string"},
        "url": {"type": "string"},
    },
}
MONITOR_HEATMAP = {
    "type": "object",
    "properties": {
        "site_id": {"type": "integer", "nullable": True},
        "sites": {"type": "array", "items": {"type": "array"}, "description": "[id, name]"},
        "zones": {"type": "array", "items": {"type": "object"}},
        "cells": {
            "type": "array",
            "description": "[miner_id, rack_id, row, slot, state, temp_max_c, ratio_pct, "
            "hashrate_ths]",
            "items": {"type": "array"},
        },
        "unracked": {"type": "integer"},
        "temp_warning_c": {"type": "number"},
        "low_ratio_pct": {"type": "number"},
    },
}
MONITOR_MINER = {
    "type": "object",
    "properties": {
        "miner_id": {"type": "integer"},
        "as_of": {"type": "string", "format": "date-time"},
        "live": {"type": "object", "nullable": True},
        "raw": {
            "type": "object",
            "description": "Every poll of the last 24 hours",
            "properties": {
                "t": _TIMES,
                "online": {"type": "array", "items": {"type": "boolean"}},
                "hashrate_ths": _SERIES,
                "power_w": _SERIES,
                "temp_max_c": _SERIES,
            },
        },
        "hourly": {
            "type": "object",
            "description": "Hourly figures of the last 90 days (from the 5-minute rows)",
            "properties": {
                "t": _TIMES,
                "hashrate_ths": _SERIES,
                "power_w": _SERIES,
                "temp_max_c": _SERIES,
                "uptime": _SERIES,
            },
        },
    },
}
_SITE_FILTER = _query("site_id", _ID, "Only this site")
MONITOR_PATHS = {
    "/api/v1/hosting/monitor/fleet": {
        "get": {
            "tags": ["hosting"],
            "summary": "Fleet overview: counts, hashrate, power, efficiency, 24 h curve",
            "operationId": "hosting.monitor.fleet",
            "parameters": [_SITE_FILTER],
            "responses": {
                "200": json_response("Fleet figures", ref("HostingMonitorFleet")),
                "400": BAD,
            },
        }
    },
    "/api/v1/hosting/monitor/miners": {
        "get": {
            "tags": ["hosting"],
            "summary": "The live miner table: filters, sort, search, pages",
            "operationId": "hosting.monitor.live",
            "parameters": [
                _SITE_FILTER,
                _query("zone_id", _ID, "Only this zone"),
                _query("customer_id", _ID, "Only this customer's miners"),
                _query("model", {"type": "string", "maxLength": 100}, "Model name, exactly"),
                _query("state", MONITOR_STATE, "online includes warnings"),
                _query(
                    "q",
                    {"type": "string", "maxLength": 100},
                    "Serial (prefix), MAC, miner key or pool worker",
                ),
                _query(
                    "sort",
                    {
                        "type": "string",
                        "enum": [
                            "miner",
                            "model",
                            "state",
                            "hashrate",
                            "ratio",
                            "temp",
                            "power",
                            "efficiency",
                            "seen",
                        ],
                        "default": "miner",
                    },
                    "Sort key",
                ),
                _query("order", {"type": "string", "enum": ["asc", "desc"]}, "Sort direction"),
                *PAGE_PARAMETERS,
            ],
            "responses": {
                "200": json_response(
                    "One page of miners with their newest reading",
                    page_of(ref("HostingMonitorLiveItem")),
                ),
                "400": BAD,
                "422": BAD,
            },
        }
    },
    "/api/v1/hosting/monitor/heatmap": {
        "get": {
            "tags": ["hosting"],
            "summary": "Racks of a site with the state, temperature and hashrate of each miner",
            "operationId": "hosting.monitor.heatmap",
            "parameters": [_query("site_id", _ID, "The site (default: the first by name)")],
            "responses": {
                "200": json_response("Heatmap cells", ref("HostingMonitorHeatmap")),
                "400": BAD,
                "404": NOT_FOUND,
            },
        }
    },
    "/api/v1/hosting/miners/{miner_id}/telemetry": {
        "get": _item(
            "A miner's live reading, last 24 h of polls, 90 days hourly",
            "hosting.monitor.miner",
            "miner_id",
            json_response("Telemetry", ref("HostingMonitorMiner")),
        )
    },
}
API_PATHS["paths"].update(MONITOR_PATHS)
API_PATHS["components"]["schemas"].update(
    {
        "HostingMonitorFleet": MONITOR_FLEET,
        "HostingMonitorLiveItem": MONITOR_LIVE_ITEM,
        "HostingMonitorHeatmap": MONITOR_HEATMAP,
        "HostingMonitorMiner": MONITOR_MINER,
    }
)
