"""The wire formats shared by the edge collector and the HashInsight server, defined once.

Everything the server must understand about the collector lives here: the normalized miner
record, the telemetry batch body and its headers, the command and its acknowledgement, the
discovery report, and the error classes both sides use. The server imports this module (it
has no dependencies beyond the standard library) or follows docs/edge.md, which describes the
same contract in prose.

Privacy rule: a record never carries the miner's IP address or any credential unless the
site's policy allows it (``include_ip``); the stable ``miner_key`` identifies a miner instead.
"""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

# --- endpoints and headers -----------------------------------------------------------------

TELEMETRY_PATH = "/api/v1/edge/telemetry"
COMMANDS_PATH = "/api/v1/edge/commands"
COMMAND_ACK_PATH = "/api/v1/edge/commands/{command_id}/ack"
DISCOVERY_PATH = "/api/v1/edge/discovery"

HEADER_AUTHORIZATION = "Authorization"  # "Bearer <device token>"
HEADER_IDEMPOTENCY = "Idempotency-Key"  # one per telemetry batch, equal to its batch_id
HEADER_DEVICE = "X-Edge-Device-ID"

TELEMETRY_SCHEMA = "hashinsight.edge.telemetry.v1"
DISCOVERY_SCHEMA = "hashinsight.edge.discovery.v1"
ACK_SCHEMA = "hashinsight.edge.command-ack.v1"

STREAM_RAW = "raw"
STREAM_LATEST = "latest"
STREAMS = (STREAM_RAW, STREAM_LATEST)


class ErrorClass(StrEnum):
    """Why a poll or a command did not give a clean answer (empty string: it did)."""

    NONE = ""
    TIMEOUT = "timeout"
    REFUSED = "refused"
    RESET = "reset"
    UNREACHABLE = "unreachable"
    MALFORMED = "malformed"
    TRUNCATED = "truncated"
    OVERSIZED = "oversized"
    ACCESS_DENIED = "access_denied"
    API_ERROR = "api_error"
    UNSUPPORTED = "unsupported"
    AUTH_FAILED = "auth_failed"
    LOCAL = "local"
    # Command-only classes.
    SITE_MISMATCH = "site_mismatch"
    ZONE_MISMATCH = "zone_mismatch"
    EXPIRED = "expired"
    DUPLICATE = "duplicate"
    UNSIGNED = "unsigned"
    BAD_SIGNATURE = "bad_signature"
    BAD_APPROVALS = "bad_approvals"
    UNKNOWN_MINER = "unknown_miner"
    INVALID = "invalid"
    VERIFY_FAILED = "verify_failed"


class WorkMode(StrEnum):
    SLEEP = "sleep"
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


# --- the normalized miner record ----------------------------------------------------------


@dataclass(slots=True)
class Board:
    index: int
    hashrate_ghs: float | None = None
    chips: int | None = None
    expected_chips: int | None = None
    bad_chips: int | None = None
    temp_board_c: float | None = None
    temp_chip_c: float | None = None
    hardware_errors: int | None = None
    status: str = ""


@dataclass(slots=True)
class Pool:
    index: int
    url: str = ""
    user: str = ""
    status: str = ""
    active: bool = False
    accepted: int | None = None
    rejected: int | None = None
    stale: int | None = None


@dataclass(slots=True)
class MinerRecord:
    """One poll of one miner, the same shape for every vendor."""

    miner_key: str
    timestamp: str
    online: bool
    ip: str = ""  # kept on the edge; sent only when the site's policy allows
    vendor: str = ""
    model: str = ""
    firmware: str = ""
    api_version: str = ""
    serial: str = ""
    mac: str = ""
    hashrate_ghs: float | None = None  # the miner's short window (5 s) figure
    hashrate_avg_ghs: float | None = None
    hashrate_expected_ghs: float | None = None
    boards: list[Board] = field(default_factory=list)
    fans_rpm: list[int] = field(default_factory=list)
    temp_max_c: float | None = None
    temp_avg_c: float | None = None
    temp_env_c: float | None = None
    power_w: float | None = None
    power_limit_w: float | None = None
    work_mode: str = ""
    is_mining: bool | None = None
    accepted: int | None = None
    rejected: int | None = None
    stale: int | None = None
    hardware_errors: int | None = None
    pools: list[Pool] = field(default_factory=list)
    pool_url: str = ""
    pool_user: str = ""
    uptime_s: int | None = None
    errors: list[str] = field(default_factory=list)
    error_class: str = ""
    error_message: str = ""

    def to_wire(self, *, include_ip: bool = False) -> dict[str, Any]:
        body = asdict(self)
        if not include_ip:
            del body["ip"]
        return body

    @classmethod
    def from_wire(cls, body: dict[str, Any]) -> MinerRecord:
        known = set(cls.__dataclass_fields__)
        values = {key: value for key, value in body.items() if key in known}
        values["boards"] = [Board(**board) for board in body.get("boards") or []]
        values["pools"] = [Pool(**pool) for pool in body.get("pools") or []]
        return cls(**values)

    def snapshot(self) -> dict[str, Any]:
        """The few fields a command acknowledgement shows before and after."""
        return {
            "online": self.online,
            "hashrate_ghs": self.hashrate_ghs,
            "power_w": self.power_w,
            "temp_max_c": self.temp_max_c,
            "work_mode": self.work_mode,
            "is_mining": self.is_mining,
            "pool_url": self.pool_url,
            "uptime_s": self.uptime_s,
            "error_class": self.error_class,
        }


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(value: str) -> datetime:
    """Parse an ISO 8601 timestamp; a naive one is taken as UTC."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _finite(value: Any) -> Any:
    # JSON has no NaN/Infinity; a firmware that reports them must not poison a whole batch.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


# --- telemetry batch ----------------------------------------------------------------------


def telemetry_body(
    *,
    batch_id: str,
    device_id: str,
    site_id: str,
    zone_id: str,
    stream: str,
    records: list[dict[str, Any]],
    seq_first: int,
    seq_last: int,
    dropped_total: int,
    shard_index: int = 0,
    shard_total: int = 1,
) -> dict[str, Any]:
    """The JSON body of ``POST /api/v1/edge/telemetry``; every record carries its ``seq``."""
    return {
        "schema": TELEMETRY_SCHEMA,
        "batch_id": batch_id,
        "device_id": device_id,
        "site_id": site_id,
        "zone_id": zone_id,
        "stream": stream,
        "sent_at": utc_now_iso(),
        "seq_first": seq_first,
        "seq_last": seq_last,
        "record_count": len(records),
        "dropped_total": dropped_total,
        "shard": {"index": shard_index, "total": shard_total},
        "records": records,
    }


def encode_gzip_json(body: Any) -> bytes:
    text = json.dumps(_finite(body), separators=(",", ":"), allow_nan=False)
    # Level 5 is nearly as small as 9 for telemetry JSON and several times cheaper.
    return gzip.compress(text.encode(), compresslevel=5)


def decode_gzip_json(data: bytes, *, max_bytes: int = 64 * 1024 * 1024) -> Any:
    """Inverse of encode_gzip_json, refusing bodies that inflate beyond ``max_bytes``."""
    with gzip.GzipFile(fileobj=_BytesReader(data)) as stream:
        raw = stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ValueError("body inflates beyond the limit")
    return json.loads(raw)


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size < 0 else min(len(self._data), self._pos + size)
        chunk = bytes(self._data[self._pos : end])
        self._pos = end
        return chunk


# --- commands -----------------------------------------------------------------------------


class Action(StrEnum):
    REBOOT = "reboot"
    SLEEP = "sleep"
    WAKE = "wake"
    SET_WORK_MODE = "set_work_mode"  # params: {"mode": "low" | "normal" | "high"}
    SET_POOL = "set_pool"  # params: {"url", "user", "password"?}
    SWITCH_POOL = "switch_pool"  # params: {"index"}: mine on a pool the miner already has
    SET_POWER_LIMIT = "set_power_limit"  # params: {"watts"}; Whatsminer, pyasic-driven firmware


class AckStatus(StrEnum):
    COMPLETED = "completed"  # executed and the effect was seen in telemetry
    FAILED = "failed"  # tried, but the miner refused or the effect never showed
    REJECTED = "rejected"  # refused before touching the miner (site, zone, expiry, signature)
    DUPLICATE = "duplicate"  # this command id was already executed here


@dataclass(slots=True, frozen=True)
class Command:
    """An approved command as ``GET /api/v1/edge/commands`` hands it out."""

    id: str
    site_id: str
    miner_key: str
    action: str
    params: dict[str, Any]
    expires_at: str
    zone_id: str = ""
    issued_at: str = ""
    signature: str = ""

    @classmethod
    def from_wire(cls, body: Any) -> Command:
        """Build a command, raising ValueError naming the first bad field."""
        if not isinstance(body, dict):
            raise ValueError("command is not an object")
        values: dict[str, Any] = {}
        for name in ("id", "site_id", "miner_key", "action", "expires_at"):
            value = body.get(name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"command field '{name}' must be a non-empty string")
            values[name] = value
        for name in ("zone_id", "issued_at", "signature"):
            value = body.get(name) or ""
            if not isinstance(value, str):
                raise ValueError(f"command field '{name}' must be a string")
            values[name] = value
        params = body.get("params") or {}
        if not isinstance(params, dict):
            raise ValueError("command field 'params' must be an object")
        values["params"] = params
        parse_iso(values["expires_at"])  # raises ValueError when it is not a timestamp
        return cls(**values)

    def signed_payload(self) -> bytes:
        """The canonical bytes a future control-plane signature covers."""
        body = {
            "id": self.id,
            "site_id": self.site_id,
            "zone_id": self.zone_id,
            "miner_key": self.miner_key,
            "action": self.action,
            "params": self.params,
            "issued_at": self.issued_at,
            "expires_at": self.expires_at,
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def ack_body(
    *,
    command_id: str,
    status: AckStatus,
    error_class: str,
    message: str,
    device_id: str,
    site_id: str,
    miner_key: str,
    action: str,
    started_at: str,
    finished_at: str,
    duration_ms: int,
    verified: bool,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> dict[str, Any]:
    """The JSON body of ``POST /api/v1/edge/commands/{id}/ack``."""
    return {
        "schema": ACK_SCHEMA,
        "command_id": command_id,
        "status": str(status),
        "error_class": str(error_class),
        "message": message[:500],
        "device_id": device_id,
        "site_id": site_id,
        "miner_key": miner_key,
        "action": action,
        "started_at": started_at,
        "finished_at": finished_at,
        "duration_ms": duration_ms,
        "verified": verified,
        "before": before,
        "after": after,
    }


# --- discovery ----------------------------------------------------------------------------


def discovery_body(
    *, device_id: str, site_id: str, zone_id: str, candidates: list[dict[str, Any]]
) -> dict[str, Any]:
    """The JSON body of ``POST /api/v1/edge/discovery`` (gzip, same headers as telemetry)."""
    return {
        "schema": DISCOVERY_SCHEMA,
        "device_id": device_id,
        "site_id": site_id,
        "zone_id": zone_id,
        "sent_at": utc_now_iso(),
        "candidates": candidates,
    }
