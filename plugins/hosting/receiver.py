"""The telemetry receiver's pure part: bounded decompression and record validation.

Three wire formats arrive (see docs/hosting.md):

- our collector's ``hashinsight.edge.telemetry.v1`` batch (``edge_collector/wire.py``),
- the legacy HashInsight collector's ``POST /api/collector/upload`` array of records,
- the legacy ``telemetry_envelope.v1`` envelope.

Each record becomes one :class:`Reading` (a miner's poll in server units: TH/s, W, °C) or a
rejection with a reason. Nothing here imports Pyramid or SQLAlchemy, so it is tested alone
and the limits are easy to read.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import zlib
from dataclasses import dataclass, field
from typing import Annotated, Any

import msgspec
import orjson
from msgspec import Meta, Struct

MAX_COMPRESSED = 8 * 1024 * 1024  # bytes on the wire
MAX_INFLATED = 64 * 1024 * 1024  # bytes after gunzip
MAX_RECORDS = 5000
# A record older than this (a collector offline for a week) or from the future is refused.
MAX_AGE = dt.timedelta(days=7)
MAX_AHEAD = dt.timedelta(minutes=10)

ERROR_CLASSES = frozenset(
    {
        "",
        "timeout",
        "refused",
        "reset",
        "unreachable",
        "malformed",
        "truncated",
        "oversized",
        "access_denied",
        "api_error",
        "unsupported",
        "auth_failed",
        "local",
    }
)


class BodyProblem(Exception):
    """The body as a whole cannot be read: ``status`` is 400, 413 or 422."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class Rejected(ValueError):
    """One record is refused; the message is the reason the answer lists."""


# --- the body ---------------------------------------------------------------------------------


def inflate(data: bytes, *, max_inflated: int = MAX_INFLATED) -> bytes:
    """gunzip (or zlib) ``data`` without ever holding more than ``max_inflated`` bytes.

    A gzip bomb stops at the limit (413); a body that is not compressed is returned as is.
    """
    if not data[:2] == b"\x1f\x8b" and not (len(data) > 1 and data[0] == 0x78):
        return data
    inflater = zlib.decompressobj(wbits=47)  # 32 + 15: gzip or zlib header, detected
    try:
        # Usually one call inflates it all, and its bytes are the answer (no copies).
        first = inflater.decompress(data, max_inflated + 1)
        if inflater.eof and len(first) <= max_inflated:
            return first
        out = bytearray(first)
        pending = inflater.unconsumed_tail
        while not inflater.eof:
            if len(out) > max_inflated:
                break
            chunk = inflater.decompress(pending, max_inflated + 1 - len(out))
            out += chunk
            pending = inflater.unconsumed_tail
            if not chunk and not pending:
                break
        if len(out) > max_inflated:
            raise BodyProblem(413, "too_large", f"the body inflates beyond {max_inflated} bytes")
        if not inflater.eof:
            raise BodyProblem(400, "bad_body", "the compressed body is truncated")
    except zlib.error as error:
        raise BodyProblem(400, "bad_body", f"the body is not valid gzip: {error}") from None
    return bytes(out)


def parse_json(data: bytes):
    """The body as Python objects. orjson reads strict UTF-8 JSON several times faster; what it
    refuses (NaN/Infinity, which the record checks reject one by one with a reason, other
    encodings, integers beyond 64 bits) goes to the standard library, which decides."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise BodyProblem(400, "bad_json", f"the body is not JSON: {str(error)[:200]}") from None


# --- value checks -------------------------------------------------------------------------------


def _num(record: dict, name: str, low: float, high: float, *, integer=False):
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Rejected(f"{name}: expected a number, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise Rejected(f"{name}: {value} is not a finite number")
    if not low <= value <= high:
        raise Rejected(f"{name}: {value:g} is outside {low:g}..{high:g}")
    if integer:
        if isinstance(value, float) and not value.is_integer():
            raise Rejected(f"{name}: expected a whole number, got {value:g}")
        return int(value)
    return float(value)


def _str(record: dict, name: str, limit: int, *, required=False) -> str:
    value = record.get(name)
    if value is None:
        if required:
            raise Rejected(f"{name}: missing")
        return ""
    if not isinstance(value, str):
        raise Rejected(f"{name}: expected a string, got {type(value).__name__}")
    if required and not value.strip():
        raise Rejected(f"{name}: empty")
    if len(value) > limit:
        raise Rejected(f"{name}: longer than {limit} characters")
    return value


def _bool(record: dict, name: str, *, required=False) -> bool | None:
    value = record.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, bool):
        raise Rejected(f"{name}: expected true or false")
    return value


def _list(record: dict, name: str, limit: int) -> list:
    value = record.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise Rejected(f"{name}: expected a list")
    if len(value) > limit:
        raise Rejected(f"{name}: more than {limit} items")
    return value


def _timestamp(record: dict, name: str, now: dt.datetime) -> dt.datetime:
    return _time_of(_str(record, name, 40, required=True), name, now)


def _parse_time(text: str, name: str) -> dt.datetime:
    """ISO 8601 text -> naive UTC."""
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    except ValueError:
        raise Rejected(f"{name}: '{text}' is not an ISO 8601 time") from None
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 has no UTC time
        raise Rejected(f"{name}: {text} is too far from the server's clock") from None
    return parsed


def _time_of(text: str, name: str, now: dt.datetime) -> dt.datetime:
    """ISO 8601 text -> naive UTC, refused when too far from ``now`` (the server's clock)."""
    parsed = _parse_time(text, name)
    if parsed < now - MAX_AGE or parsed > now + MAX_AHEAD:
        raise Rejected(f"{name}: {text} is too far from the server's clock")
    return parsed


COUNTER_MAX = 2**62
UPTIME_MAX = 20 * 365 * 86400
GHS_MAX = 10_000_000.0  # 10 PH/s
POWER_MAX = 100_000.0
TEMP_LOW, TEMP_HIGH = -60.0, 200.0
RPM_MAX = 50_000


class Reading(Struct, gc=False):
    """One record in server units, before it is matched to a miner.

    A msgspec Struct (fast to build, positional or by name) that the garbage collector does
    not track: it holds only strings, numbers and a datetime, and a batch makes a thousand.
    """

    ts: dt.datetime
    online: bool
    miner_key: str = ""
    legacy_miner_id: str = ""
    serial: str = ""
    mac: str = ""
    vendor: str = ""
    model: str = ""
    firmware: str = ""
    hashrate_ths: float | None = None
    hashrate_5s_ths: float | None = None
    expected_ths: float | None = None
    power_w: float | None = None
    temp_max_c: float | None = None
    temp_avg_c: float | None = None
    fan_min_rpm: int | None = None
    fans_total: int | None = None
    fans_failed: int | None = None
    boards_total: int | None = None
    boards_ok: int | None = None
    accepted: int | None = None
    rejected: int | None = None
    hw_errors: int | None = None
    uptime_s: int | None = None
    pool_url: str = ""
    pool_worker: str = ""
    error_class: str = ""
    seq: int | None = None


def _ths(ghs):
    return None if ghs is None else ghs / 1000.0


def _fans(rpms: list) -> tuple[int | None, int | None, int | None]:
    if not rpms:
        return None, None, None
    values = []
    for rpm in rpms:
        if isinstance(rpm, bool) or not isinstance(rpm, int | float):
            raise Rejected("fans: expected numbers")
        if not math.isfinite(rpm) or not 0 <= rpm <= RPM_MAX:
            raise Rejected(f"fans: {rpm} rpm is not possible")
        values.append(int(rpm))
    return min(values), len(values), sum(1 for v in values if v == 0)


# --- our collector ------------------------------------------------------------------------------

RECORD_FIELDS = frozenset(
    {
        "seq",
        "miner_key",
        "timestamp",
        "online",
        "ip",
        "vendor",
        "model",
        "firmware",
        "api_version",
        "serial",
        "mac",
        "hashrate_ghs",
        "hashrate_avg_ghs",
        "hashrate_expected_ghs",
        "boards",
        "fans_rpm",
        "temp_max_c",
        "temp_avg_c",
        "temp_env_c",
        "power_w",
        "power_limit_w",
        "work_mode",
        "is_mining",
        "accepted",
        "rejected",
        "stale",
        "hardware_errors",
        "pools",
        "pool_url",
        "pool_user",
        "uptime_s",
        "errors",
        "error_class",
        "error_message",
    }
)
BOARD_FIELDS = frozenset(
    {
        "index",
        "hashrate_ghs",
        "chips",
        "expected_chips",
        "bad_chips",
        "temp_board_c",
        "temp_chip_c",
        "hardware_errors",
        "status",
    }
)
POOL_FIELDS = frozenset(
    {"index", "url", "user", "status", "active", "accepted", "rejected", "stale"}
)
BATCH_FIELDS = frozenset(
    {
        "schema",
        "batch_id",
        "device_id",
        "site_id",
        "zone_id",
        "stream",
        "sent_at",
        "seq_first",
        "seq_last",
        "record_count",
        "dropped_total",
        "shard",
        "records",
        # optional device status the collector may add
        "spool_depth",
        "version",
    }
)
TELEMETRY_SCHEMA = "hashinsight.edge.telemetry.v1"
BOARD_OK = frozenset({"", "ok", "alive", "o", "normal"})


def _board(board) -> bool:
    """Checks one board; True when it hashes."""
    if not isinstance(board, dict):
        raise Rejected("boards: expected objects")
    unknown = sorted(set(board) - BOARD_FIELDS)
    if unknown:
        raise Rejected(f"boards: unknown field '{unknown[0]}'")
    ghs = _num(board, "hashrate_ghs", 0, GHS_MAX)
    for name in ("chips", "expected_chips", "bad_chips"):
        _num(board, name, 0, 100_000, integer=True)
    for name in ("temp_board_c", "temp_chip_c"):
        _num(board, name, TEMP_LOW, TEMP_HIGH)
    _num(board, "hardware_errors", 0, COUNTER_MAX, integer=True)
    status = _str(board, "status", 40).strip().lower()
    return ghs > 0 if ghs is not None else status in BOARD_OK


def _pool(pool) -> None:
    if not isinstance(pool, dict):
        raise Rejected("pools: expected objects")
    unknown = sorted(set(pool) - POOL_FIELDS)
    if unknown:
        raise Rejected(f"pools: unknown field '{unknown[0]}'")
    _str(pool, "url", 300)
    _str(pool, "user", 200)
    for name in ("accepted", "rejected", "stale"):
        _num(pool, name, 0, COUNTER_MAX, integer=True)


def read_record(record, now: dt.datetime) -> Reading:
    """One ``MinerRecord`` of our collector -> a Reading; raises Rejected with the reason."""
    if not isinstance(record, dict):
        raise Rejected("a record must be an object")
    unknown = sorted(set(record) - RECORD_FIELDS)
    if unknown:
        raise Rejected(f"unknown field '{unknown[0]}'")
    boards = _list(record, "boards", 64)
    ok = [_board(board) for board in boards]
    for pool in _list(record, "pools", 16):
        _pool(pool)
    fan_min, fans_total, fans_failed = _fans(_list(record, "fans_rpm", 32))
    for name in ("errors",):
        if any(not isinstance(e, str) for e in _list(record, name, 64)):
            raise Rejected("errors: expected strings")
    error_class = _str(record, "error_class", 32)
    if error_class not in ERROR_CLASSES:
        raise Rejected(f"error_class: '{error_class}' is not known")
    for name in ("vendor", "api_version", "work_mode", "error_message", "pool_user", "ip"):
        _str(record, name, 500)
    for name in ("temp_env_c",):
        _num(record, name, TEMP_LOW, TEMP_HIGH)
    _num(record, "power_limit_w", 0, POWER_MAX)
    _num(record, "stale", 0, COUNTER_MAX, integer=True)
    _bool(record, "is_mining")
    five = _num(record, "hashrate_ghs", 0, GHS_MAX)
    avg = _num(record, "hashrate_avg_ghs", 0, GHS_MAX)
    return Reading(
        ts=_timestamp(record, "timestamp", now),
        online=_bool(record, "online", required=True),
        miner_key=_str(record, "miner_key", 128, required=True).strip(),
        serial=_str(record, "serial", 64).strip(),
        mac=_str(record, "mac", 32).strip(),
        vendor=_str(record, "vendor", 50),
        model=_str(record, "model", 100),
        firmware=_str(record, "firmware", 100),
        hashrate_ths=_ths(avg if avg is not None else five),
        hashrate_5s_ths=_ths(five),
        expected_ths=_ths(_num(record, "hashrate_expected_ghs", 0, GHS_MAX)),
        power_w=_num(record, "power_w", 0, POWER_MAX),
        temp_max_c=_num(record, "temp_max_c", TEMP_LOW, TEMP_HIGH),
        temp_avg_c=_num(record, "temp_avg_c", TEMP_LOW, TEMP_HIGH),
        fan_min_rpm=fan_min,
        fans_total=fans_total,
        fans_failed=fans_failed,
        boards_total=len(boards) if boards else None,
        boards_ok=sum(ok) if boards else None,
        accepted=_num(record, "accepted", 0, COUNTER_MAX, integer=True),
        rejected=_num(record, "rejected", 0, COUNTER_MAX, integer=True),
        hw_errors=_num(record, "hardware_errors", 0, COUNTER_MAX, integer=True),
        uptime_s=_num(record, "uptime_s", 0, UPTIME_MAX, integer=True),
        pool_url=_str(record, "pool_url", 300),
        pool_worker=_str(record, "pool_user", 200),
        error_class=error_class,
        seq=_num(record, "seq", 0, COUNTER_MAX, integer=True),
    )


def read_batch(body) -> dict:
    """Check the envelope of our collector's batch; returns it (records still unchecked)."""
    if not isinstance(body, dict):
        raise BodyProblem(422, "bad_batch", "the body must be a JSON object")
    if body.get("schema") != TELEMETRY_SCHEMA:
        raise BodyProblem(422, "bad_batch", f"schema must be '{TELEMETRY_SCHEMA}'")
    unknown = sorted(set(body) - BATCH_FIELDS)
    if unknown:
        raise BodyProblem(422, "bad_batch", f"unknown field '{unknown[0]}' in the batch")
    records = body.get("records")
    if not isinstance(records, list):
        raise BodyProblem(422, "bad_batch", "records must be a list")
    if body.get("stream", "raw") not in ("raw", "latest"):
        raise BodyProblem(422, "bad_batch", "stream must be 'raw' or 'latest'")
    count = body.get("record_count")
    if count is not None and count != len(records):
        raise BodyProblem(
            422, "bad_batch", f"record_count says {count} but the batch holds {len(records)}"
        )
    return body


# --- our collector: the fast path -----------------------------------------------------------
#
# A batch is read in one pass by msgspec straight into the typed records below: every type,
# range, string length, list length and unknown-field check of read_record/read_batch is
# declared here, at least as strictly, and runs in C. What the declarations cannot say (the
# clock window, a key that is only spaces, the error class list) is checked afterwards in
# Python. The fast path answers only for a batch that passes *every* check; anything else —
# NaN, a whole number written as 5.0, a string too long, one bad record among a thousand —
# returns None and the batch is read again by the code above, which gives each record its
# reason. So it never decides differently from read_record, it only decides sooner.

_GHS = Annotated[float, Meta(ge=0, le=GHS_MAX)]
_TEMP = Annotated[float, Meta(ge=TEMP_LOW, le=TEMP_HIGH)]
_POWER = Annotated[float, Meta(ge=0, le=POWER_MAX)]
_COUNTER = Annotated[int, Meta(ge=0, le=COUNTER_MAX)]
_CHIPS = Annotated[int, Meta(ge=0, le=100_000)]
_RPM = Annotated[int, Meta(ge=0, le=RPM_MAX)]
_UPTIME = Annotated[int, Meta(ge=0, le=UPTIME_MAX)]


def _text(limit: int):
    return Annotated[str, Meta(max_length=limit)]


class _Board(Struct, forbid_unknown_fields=True, kw_only=True, gc=False):
    index: Any = None  # not checked by _board either
    hashrate_ghs: _GHS | None = None
    chips: _CHIPS | None = None
    expected_chips: _CHIPS | None = None
    bad_chips: _CHIPS | None = None
    temp_board_c: _TEMP | None = None
    temp_chip_c: _TEMP | None = None
    hardware_errors: _COUNTER | None = None
    status: _text(40) | None = None


class _Pool(Struct, forbid_unknown_fields=True, kw_only=True, gc=False):
    index: Any = None  # index, status and active are not checked by _pool either
    url: _text(300) | None = None
    user: _text(200) | None = None
    status: Any = None
    active: Any = None
    accepted: _COUNTER | None = None
    rejected: _COUNTER | None = None
    stale: _COUNTER | None = None


class _Record(Struct, forbid_unknown_fields=True, kw_only=True, gc=False):
    # Limits: the smallest read_record applies to the field (vendor and pool_user are
    # checked at 500 characters and then read at 50 and 200).
    seq: _COUNTER | None = None
    miner_key: _text(128)
    timestamp: _text(40)
    online: bool
    ip: _text(500) | None = None
    vendor: _text(50) | None = None
    model: _text(100) | None = None
    firmware: _text(100) | None = None
    api_version: _text(500) | None = None
    serial: _text(64) | None = None
    mac: _text(32) | None = None
    hashrate_ghs: _GHS | None = None
    hashrate_avg_ghs: _GHS | None = None
    hashrate_expected_ghs: _GHS | None = None
    # Tuples, not lists: tuples of untracked objects leave the garbage collector's books.
    boards: Annotated[tuple[_Board, ...], Meta(max_length=64)] | None = None
    fans_rpm: Annotated[tuple[_RPM, ...], Meta(max_length=32)] | None = None
    temp_max_c: _TEMP | None = None
    temp_avg_c: _TEMP | None = None
    temp_env_c: _TEMP | None = None
    power_w: _POWER | None = None
    power_limit_w: _POWER | None = None
    work_mode: _text(500) | None = None
    is_mining: bool | None = None
    accepted: _COUNTER | None = None
    rejected: _COUNTER | None = None
    stale: _COUNTER | None = None
    hardware_errors: _COUNTER | None = None
    pools: Annotated[tuple[_Pool, ...], Meta(max_length=16)] | None = None
    pool_url: _text(300) | None = None
    pool_user: _text(200) | None = None
    uptime_s: _UPTIME | None = None
    errors: Annotated[tuple[str, ...], Meta(max_length=64)] | None = None
    error_class: _text(32) | None = None
    error_message: _text(500) | None = None


class _Batch(Struct, forbid_unknown_fields=True, kw_only=True, gc=False):
    schema: Any = None
    records: list[_Record]
    batch_id: Any = None
    device_id: Any = None
    site_id: Any = None
    zone_id: Any = None
    stream: Any = "raw"
    sent_at: Any = None
    seq_first: Any = None
    seq_last: Any = None
    record_count: Any = None
    dropped_total: Any = None
    shard: Any = None
    spool_depth: Any = None
    version: Any = None


assert set(_Record.__struct_fields__) == RECORD_FIELDS
assert set(_Board.__struct_fields__) == BOARD_FIELDS
assert set(_Pool.__struct_fields__) == POOL_FIELDS
assert set(_Batch.__struct_fields__) == BATCH_FIELDS

_BATCH_DECODER = msgspec.json.Decoder(_Batch)


# _fast_reading builds Readings positionally: it relies on this order.
assert Reading.__struct_fields__[:4] == ("ts", "online", "miner_key", "legacy_miner_id")
assert Reading.__struct_fields__[-4:] == ("pool_url", "pool_worker", "error_class", "seq")


def _fast_time(text: str) -> dt.datetime | None:
    """_time_of's naive UTC for the usual ``…Z`` text, or None to leave the text to it."""
    if text[-1:] == "Z" and "Z" not in text[:-1]:
        try:
            parsed = dt.datetime.fromisoformat(text[:-1])
        except ValueError:
            return None
        # An offset before the Z makes _time_of's text invalid; a naive time is UTC.
        return parsed if parsed.tzinfo is None else None
    try:
        return _parse_time(text, "timestamp")
    except Rejected:
        return None


def _fast_reading(record: _Record, oldest: dt.datetime, newest: dt.datetime) -> Reading | None:
    """The Reading read_record makes of ``record``, or None when a check is left to it."""
    key = record.miner_key.strip()
    error_class = record.error_class or ""
    if not key or error_class not in ERROR_CLASSES:
        return None
    ts = _fast_time(record.timestamp)
    if ts is None or ts < oldest or ts > newest:
        return None
    boards = record.boards
    boards_total = boards_ok = None
    if boards:
        boards_total, boards_ok = len(boards), 0
        for board in boards:
            ghs = board.hashrate_ghs
            if ghs is not None:
                boards_ok += ghs > 0
            else:
                boards_ok += (board.status or "").strip().lower() in BOARD_OK
    fans = record.fans_rpm
    fan_min = fans_total = fans_failed = None
    if fans:
        fan_min, fans_total, fans_failed = min(fans), len(fans), fans.count(0)
    five = record.hashrate_ghs
    avg = record.hashrate_avg_ghs
    if avg is None:
        avg = five
    expected = record.hashrate_expected_ghs
    # Positional, in Reading's field order (several times cheaper than keywords, per record).
    return Reading(
        ts,
        record.online,
        key,
        "",  # legacy_miner_id
        (record.serial or "").strip(),
        (record.mac or "").strip(),
        record.vendor or "",
        record.model or "",
        record.firmware or "",
        None if avg is None else avg / 1000.0,
        None if five is None else five / 1000.0,
        None if expected is None else expected / 1000.0,
        record.power_w,
        record.temp_max_c,
        record.temp_avg_c,
        fan_min,
        fans_total,
        fans_failed,
        boards_total,
        boards_ok,
        record.accepted,
        record.rejected,
        record.hardware_errors,
        record.uptime_s,
        record.pool_url or "",
        record.pool_user or "",
        error_class,
        record.seq,
    )


def read_batch_fast(data: bytes, now: dt.datetime) -> tuple[dict, Checked] | None:
    """Our collector's batch (inflated JSON bytes) -> (its envelope as a dict with
    ``records``, the checked readings) when the whole batch is valid; None otherwise, and
    then read_batch + check_records(read_record) say what is wrong with it."""
    try:
        batch = _BATCH_DECODER.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    records = batch.records
    count = batch.record_count
    if (
        batch.schema != TELEMETRY_SCHEMA
        or batch.stream not in ("raw", "latest")
        or (count is not None and count != len(records))
    ):
        return None
    oldest, newest = now - MAX_AGE, now + MAX_AHEAD
    checked = Checked()
    readings = checked.readings
    for index, record in enumerate(records):
        reading = _fast_reading(record, oldest, newest)
        if reading is None:
            return None
        readings.append((index, reading))
    body = {name: getattr(batch, name) for name in BATCH_FIELDS}
    return body, checked


# --- the legacy HashInsight collector -----------------------------------------------------------

LEGACY_FIELDS = {
    "miner_id",
    "timestamp",
    "online",
    "miner_key",
    "hashrate_ghs",
    "hashrate_5s_ghs",
    "temperature_avg",
    "temperature_max",
    "temperature_chips",
    "fan_speeds",
    "frequency_avg",
    "accepted_shares",
    "rejected_shares",
    "hardware_errors",
    "uptime_seconds",
    "power_consumption",
    "efficiency",
    "pool_url",
    "worker_name",
    "firmware_version",
    "error_type",
    "error_message",
}
ENVELOPE_SCHEMA = "telemetry_envelope.v1"


def read_legacy_record(record, now: dt.datetime) -> Reading:
    """One legacy record -> a Reading. Fields the contract does not name are ignored: the
    collectors in the field are frozen, and a newer one adding a field must not lose data."""
    if not isinstance(record, dict):
        raise Rejected("a record must be an object")
    miner_id = record.get("miner_id")
    if isinstance(miner_id, int) and not isinstance(miner_id, bool):
        miner_id = str(miner_id)
        record = {**record, "miner_id": miner_id}
    miner_id = _str(record, "miner_id", 128).strip()
    key = _str(record, "miner_key", 128).strip()
    if not miner_id and not key:
        raise Rejected("miner_id or miner_key is required")
    online = record.get("online")
    if isinstance(online, int) and not isinstance(online, bool) and online in (0, 1):
        online = bool(online)
        record = {**record, "online": online}
    for name in ("frequency_avg", "efficiency"):
        _num(record, name, 0, 1e7)
    chips = _list(record, "temperature_chips", 1024)
    for value in chips:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Rejected("temperature_chips: expected numbers")
        if not math.isfinite(value) or not TEMP_LOW <= value <= TEMP_HIGH:
            raise Rejected(f"temperature_chips: {value} is not possible")
    fan_min, fans_total, fans_failed = _fans(_list(record, "fan_speeds", 32))
    error_type = _str(record, "error_type", 64).strip().lower()
    _str(record, "error_message", 2000)
    temp_max = _num(record, "temperature_max", TEMP_LOW, TEMP_HIGH)
    if temp_max is None and chips:
        temp_max = float(max(chips))
    avg = _num(record, "hashrate_ghs", 0, GHS_MAX)
    five = _num(record, "hashrate_5s_ghs", 0, GHS_MAX)
    return Reading(
        ts=_timestamp(record, "timestamp", now),
        online=_bool(record, "online", required=True),
        miner_key=key,
        legacy_miner_id=miner_id,
        firmware=_str(record, "firmware_version", 100),
        hashrate_ths=_ths(avg if avg is not None else five),
        hashrate_5s_ths=_ths(five),
        power_w=_num(record, "power_consumption", 0, POWER_MAX),
        temp_max_c=temp_max,
        temp_avg_c=_num(record, "temperature_avg", TEMP_LOW, TEMP_HIGH),
        fan_min_rpm=fan_min,
        fans_total=fans_total,
        fans_failed=fans_failed,
        accepted=_num(record, "accepted_shares", 0, COUNTER_MAX, integer=True),
        rejected=_num(record, "rejected_shares", 0, COUNTER_MAX, integer=True),
        hw_errors=_num(record, "hardware_errors", 0, COUNTER_MAX, integer=True),
        uptime_s=_num(record, "uptime_seconds", 0, UPTIME_MAX, integer=True),
        pool_url=_str(record, "pool_url", 300),
        pool_worker=_str(record, "worker_name", 200),
        # Legacy error types are free text; keep known classes, else a generic one.
        error_class=error_type if error_type in ERROR_CLASSES else "api_error",
    )


def read_envelope(body, *, max_inflated: int = MAX_INFLATED) -> dict:
    """Check a ``telemetry_envelope.v1``; records given as base64 gzip are unpacked."""
    if not isinstance(body, dict) or body.get("schema") != ENVELOPE_SCHEMA:
        raise BodyProblem(422, "bad_envelope", f"schema must be '{ENVELOPE_SCHEMA}'")
    records = body.get("records")
    if isinstance(records, str):
        try:
            packed = base64.b64decode(records, validate=True)
        except ValueError:
            raise BodyProblem(400, "bad_body", "records is not base64") from None
        records = parse_json(inflate(packed, max_inflated=max_inflated))
    if not isinstance(records, list):
        raise BodyProblem(422, "bad_envelope", "records must be a list")
    count = body.get("record_count")
    if count is not None and count != len(records):
        raise BodyProblem(
            422, "bad_envelope", f"record_count says {count} but the envelope holds {len(records)}"
        )
    if body.get("mode", "raw") not in ("raw", "latest"):
        raise BodyProblem(422, "bad_envelope", "mode must be 'raw' or 'latest'")
    return {**body, "records": records}


@dataclass
class Checked:
    """A batch after validation: good readings with their index, and the rejections."""

    readings: list[tuple[int, Reading]] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)


def check_records(records: list, reader, now: dt.datetime) -> Checked:
    checked = Checked()
    for index, record in enumerate(records):
        try:
            checked.readings.append((index, reader(record, now)))
        except Rejected as reason:
            entry = {"index": index, "reason": str(reason)}
            if isinstance(record, dict) and isinstance(record.get("seq"), int):
                entry["seq"] = record["seq"]
            checked.rejected.append(entry)
    return checked
