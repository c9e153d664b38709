"""The audit API's part of the OpenAPI document."""

from __future__ import annotations

from hashinsight_core.openapi import PAGE_PARAMETERS, json_response, page_of, ref

HASH = {"type": "string", "pattern": "^[0-9a-f]{64}$", "example": "9f2c" + "0" * 60}

EVENT = {
    "type": "object",
    "required": ["seq", "occurred_at", "actor_type", "tag", "payload", "prev_hash", "hash"],
    "properties": {
        "seq": {"type": "integer", "example": 1042},
        "occurred_at": {"type": "string", "example": "2026-05-09T07:35:25.123456Z"},
        "actor_type": {"type": "string", "enum": ["user", "device", "system"]},
        "actor_id": {"type": "string", "example": "7"},
        "tag": {"type": "string", "example": "core:user:login"},
        "subject_type": {"type": "string", "example": "user"},
        "subject_id": {"type": "string", "example": "7"},
        "payload": {"type": "object", "additionalProperties": True},
        "payload_canonical": {
            "type": "string",
            "description": "The payload exactly as stored and hashed (canonical JSON)",
        },
        "prev_hash": HASH,
        "hash": HASH,
    },
}

CHECKPOINT = {
    "type": "object",
    "required": ["origin", "size", "head_hash", "time", "note"],
    "properties": {
        "origin": {"type": "string", "example": "farm.example.com/audit"},
        "size": {"type": "integer", "description": "How many events the checkpoint covers"},
        "head_hash": HASH,
        "time": {"type": "string", "example": "2026-05-09T07:35:00Z"},
        "source": {"type": "string", "example": "stored"},
        "key_id": {"type": "string", "example": "1a2b3c4d"},
        "note": {
            "type": "string",
            "description": "The signed note (C2SP signed-note, Ed25519); keep a copy outside "
            "the database and pass it to `hashinsight audit verify --checkpoint FILE`",
        },
    },
}

PROBLEM_CODES = [
    "gap",
    "order",
    "changed",
    "broken_link",
    "checkpoint_mismatch",
    "truncated",
    "bad_checkpoint",
]

VERIFY_RESULT = {
    "type": "object",
    "required": ["ok", "events", "head", "problem", "checkpoint", "notes"],
    "properties": {
        "ok": {"type": "boolean"},
        "events": {"type": "integer", "description": "Events verified before stopping"},
        "head": {
            "type": "object",
            "properties": {"seq": {"type": "integer"}, "hash": HASH},
        },
        "problem": {
            "type": "object",
            "nullable": True,
            "description": "The first problem found; null when the chain verifies",
            "properties": {
                "code": {"type": "string", "enum": PROBLEM_CODES},
                "first_bad_seq": {"type": "integer", "nullable": True},
                "message": {"type": "string"},
            },
        },
        "checkpoint": {
            "allOf": [ref("AuditCheckpoint")],
            "nullable": True,
            "description": "The newest checkpoint the chain was compared with",
        },
        "notes": {"type": "array", "items": {"type": "string"}},
    },
}

CHECKPOINT_CREATED = {
    "type": "object",
    "required": ["created", "checkpoint"],
    "properties": {
        "created": {"type": "boolean", "description": "false: nothing new since the newest"},
        "checkpoint": {"allOf": [ref("AuditCheckpoint")], "nullable": True},
    },
}


def _text(name: str, description: str, max_length: int = 100) -> dict:
    return {
        "name": name,
        "in": "query",
        "description": description,
        "schema": {"type": "string", "maxLength": max_length},
    }


FILTER_PARAMETERS = [
    {
        "name": "actor_type",
        "in": "query",
        "schema": {"type": "string", "enum": ["user", "device", "system"]},
    },
    _text("actor_id", "A user id, device id, or a system job name"),
    _text("tag", "A tag or the start of one: `core:user` finds every `core:user:*` event"),
    _text("subject_type", "What the event is about, e.g. `user`, `miner`"),
    _text("subject_id", "The id of that subject"),
    _text("since", "From this UTC time or date on (`2026-05-01` or `2026-05-01T08:00:00Z`)", 40),
    _text("until", "Before this UTC time; a date means up to the end of that day", 40),
]

RESPONSES = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "403": {"$ref": "#/components/responses/Forbidden"},
}

API_PATHS = {
    "paths": {
        "/api/v1/audit/verify": {
            "get": {
                "tags": ["audit"],
                "summary": "Verify the audit chain and its checkpoints",
                "description": "Walks every event and compares the chain with the signed "
                "checkpoints (stored, and the newest exported one). Answers 200 either way; "
                "`ok` says whether it verified and `problem` names the first bad event. One "
                "verification runs at a time per process (429 otherwise).",
                "operationId": "core.audit.verify",
                "responses": {
                    "200": json_response("The outcome", ref("AuditVerifyResult")),
                    "403": RESPONSES["403"],
                    "429": json_response("A verification is already running", ref("Error")),
                },
            }
        },
        "/api/v1/audit/events": {
            "get": {
                "tags": ["audit"],
                "summary": "Audit events, newest first, filtered",
                "operationId": "core.audit.events",
                "parameters": FILTER_PARAMETERS + PAGE_PARAMETERS,
                "responses": {
                    "200": json_response("One page of events", page_of(ref("AuditEvent"))),
                    **RESPONSES,
                },
            }
        },
        "/api/v1/audit/checkpoints": {
            "get": {
                "tags": ["audit"],
                "summary": "Signed checkpoints, newest first",
                "operationId": "core.audit.checkpoints",
                "parameters": PAGE_PARAMETERS,
                "responses": {
                    "200": json_response(
                        "One page of checkpoints", page_of(ref("AuditCheckpoint"))
                    ),
                    **RESPONSES,
                },
            },
            "post": {
                "tags": ["audit"],
                "summary": "Sign a checkpoint of the current chain now (owners)",
                "description": "Verifies the events since the previous checkpoint first; a "
                "chain that does not verify is never signed (409). With no new event the "
                "newest checkpoint is returned (200, `created: false`).",
                "operationId": "core.audit.checkpoint.create",
                "responses": {
                    "201": json_response("Signed", ref("AuditCheckpointCreated")),
                    "200": json_response("Nothing new to sign", ref("AuditCheckpointCreated")),
                    "403": RESPONSES["403"],
                    "409": json_response("The chain does not verify", ref("Error")),
                    "503": json_response("No signing key in this process", ref("Error")),
                },
            },
        },
        "/api/v1/audit/checkpoints/latest": {
            "get": {
                "tags": ["audit"],
                "summary": "The newest checkpoint as a signed note (text)",
                "operationId": "core.audit.checkpoint.latest",
                "responses": {
                    "200": {
                        "description": "The signed note",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    "403": RESPONSES["403"],
                    "404": {"$ref": "#/components/responses/NotFound"},
                },
            }
        },
    },
    "components": {
        "schemas": {
            "AuditEvent": EVENT,
            "AuditCheckpoint": CHECKPOINT,
            "AuditVerifyResult": VERIFY_RESULT,
            "AuditCheckpointCreated": CHECKPOINT_CREATED,
        }
    },
}
