"""Edge endpoints: our collector's telemetry and discovery, and the legacy HashInsight
collector contract. See docs/hosting.md for the flow, the limits and the status codes.

These requests carry a device token, not a user: the route factory makes sure the request
never has a user (so a device token opens nothing else, and a user's API token opens none of
these), and the views check the token themselves. Token requests carry no cookie, so the
CSRF check does not apply (``Authorization: Bearer`` — see ``hashinsight_core.security``).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

import sqlalchemy as sa
from limits import parse as parse_limit
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from pyramid.authorization import Allow, Everyone
from pyramid.exceptions import ConfigurationError
from pyramid.view import view_config

from hashinsight_core.db import utcnow
from hashinsight_core.settings import asbool
from hashinsight_core.tokens import bearer
from plugins.hosting import devices, ingest, receiver
from plugins.hosting.models import EdgeBatch, EdgeDevice, Site, Zone
from plugins.hosting.permissions import HostingPermission
from plugins.hosting.telemetry.txn import mark_written

log = logging.getLogger(__name__)

MAX_IDEMPOTENCY_KEY = 128


class EdgeProblem(Exception):
    """An answer other than 2xx, in the format of the endpoint that raised it."""

    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


class DeviceContext:
    """Route factory of the edge endpoints: no user, ever, on these requests."""

    __acl__ = [(Allow, Everyone, str(HostingPermission.EDGE_UPLOAD))]

    def __init__(self, request):
        # A device's Bearer token (hie_…) is not an account's: the core gives these requests
        # no user and no cookie session, so no data scope either; the receiver checks zones
        # itself (it must see a foreign miner to refuse it).
        self.request = request


# --- settings and the rate quota ------------------------------------------------------------


class EdgeLimits:
    def __init__(self, settings):
        def number(key, default):
            try:
                return int(settings.get(key, default))
            except ValueError:
                raise ConfigurationError(f"{key} must be a whole number") from None

        self.max_compressed = number("hosting.edge.max_compressed_bytes", receiver.MAX_COMPRESSED)
        self.max_inflated = number("hosting.edge.max_inflated_bytes", receiver.MAX_INFLATED)
        self.max_records = number("hosting.edge.max_records", receiver.MAX_RECORDS)
        self.auto_adopt = asbool(settings.get("hosting.auto_adopt", False))
        storage = settings.get("auth.throttle.storage", "memory")
        uri = settings.get("redis.url") if storage == "redis" else "memory://"
        if not uri:
            raise ConfigurationError("auth.throttle.storage = redis needs redis.url")
        options = {"socket_timeout": 1, "socket_connect_timeout": 1} if storage == "redis" else {}
        try:
            self.rate = parse_limit(settings.get("hosting.edge.rate_limit", "600/minute"))
        except ValueError as error:
            raise ConfigurationError(f"hosting.edge.rate_limit: {error}") from None
        self.limiter = MovingWindowRateLimiter(storage_from_string(uri, **options))

    def retry_after(self, device_id: int) -> int | None:
        """Counts one request; seconds to wait when the device is over its quota."""
        try:
            if self.limiter.hit(self.rate, "edge", str(device_id)):
                return None
            stats = self.limiter.get_window_stats(self.rate, "edge", str(device_id))
            return max(1, math.ceil(stats.reset_time - time.time()))
        except Exception as error:  # noqa: BLE001 - storage down: fail open like logins
            log.warning("edge rate quota storage unavailable, not counting: %s", error)
            return None


def edge_limits(request) -> EdgeLimits:
    return request.registry["hosting.edge_limits"]


# --- the steps every endpoint shares ------------------------------------------------------------


def authenticate(request, *, legacy: bool) -> EdgeDevice:
    secret = bearer(request)
    if legacy and not secret:
        secret = request.headers.get("X-Collector-Key", "").strip() or None
    if not secret:
        raise EdgeProblem(401, "unauthorized", "a device token is required")
    device = devices.find_by_secret(request.dbsession, secret)
    if device is None:
        raise EdgeProblem(401, "unauthorized", "the device token is not valid")
    if device.revoked_at is not None:
        raise EdgeProblem(403, "revoked", "the device token has been revoked")
    return device


def check_claims(request, device: EdgeDevice, site_claim, zone_claim) -> None:
    """A device may name its site and zone (by id or name); naming another is refused."""
    db = request.dbsession
    site_claim = "" if site_claim is None else str(site_claim).strip()
    zone_claim = "" if zone_claim is None else str(zone_claim).strip()
    # The name is looked up only when the claim is not the id (what collectors usually send).
    if site_claim and site_claim != str(device.site_id):
        name = db.scalar(
            sa.select(Site.name).where(Site.id == device.site_id).execution_options(unscoped=True)
        )
        if site_claim != name:
            raise EdgeProblem(403, "site_mismatch", "this device belongs to another site")
    if zone_claim and zone_claim != str(device.zone_id):
        name = db.scalar(
            sa.select(Zone.name).where(Zone.id == device.zone_id).execution_options(unscoped=True)
        )
        if zone_claim != name:
            raise EdgeProblem(403, "zone_mismatch", "this device belongs to another zone")


def read_body(request) -> bytes:
    limits = edge_limits(request)
    length = request.content_length
    if length is not None and length > limits.max_compressed:
        raise EdgeProblem(413, "too_large", f"the body is over {limits.max_compressed} bytes")
    data = request.body_file_seekable.read(limits.max_compressed + 1)
    if len(data) > limits.max_compressed:
        raise EdgeProblem(413, "too_large", f"the body is over {limits.max_compressed} bytes")
    if not data:
        raise EdgeProblem(400, "bad_body", "the body is empty")
    try:
        return receiver.inflate(data, max_inflated=limits.max_inflated)
    except receiver.BodyProblem as problem:
        raise EdgeProblem(problem.status, problem.code, problem.message) from None


def parse(data: bytes):
    try:
        return receiver.parse_json(data)
    except receiver.BodyProblem as problem:
        raise EdgeProblem(problem.status, problem.code, problem.message) from None


def throttle(request, device: EdgeDevice) -> None:
    wait = edge_limits(request).retry_after(device.id)
    if wait is not None:
        raise EdgeProblem(429, "too_many_requests", "over the device's request quota", wait)


def touch(request, device: EdgeDevice, body) -> None:
    """Last seen, version and spool depth, from the headers or the body."""
    device.last_seen_at = utcnow()
    device.last_ip = (request.client_addr or "")[:45] or None
    agent = request.headers.get("X-Edge-Version") or request.headers.get("User-Agent", "")
    if isinstance(body, dict) and isinstance(body.get("version"), str):
        agent = body["version"]
    device.version = agent[:100]
    uid = request.headers.get("X-Edge-Device-ID") or request.headers.get("X-Device-ID") or ""
    device.edge_uid = uid[:64]
    for attribute, header, key in (
        ("spool_depth", "X-Spool-Depth", "spool_depth"),
        ("dropped_total", "X-Dropped-Total", "dropped_total"),
    ):
        value = body.get(key) if isinstance(body, dict) else None
        if value is None:
            value = request.headers.get(header)
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue
        if 0 <= number < 2**31:
            setattr(device, attribute, number)


def replayed(request, device: EdgeDevice, key: str | None, digest: str):
    """The stored answer of a batch seen before, or None. Another body -> 422."""
    if not key:
        return None
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise EdgeProblem(400, "bad_key", f"Idempotency-Key is over {MAX_IDEMPOTENCY_KEY} chars")
    # Core on the request's connection: one row, no ORM object needed.
    seen = (
        request.dbsession.connection()
        .execute(
            sa.select(EdgeBatch.body_sha256, EdgeBatch.status_code, EdgeBatch.result).where(
                EdgeBatch.device_id == device.id, EdgeBatch.idem_key == key
            )
        )
        .first()
    )
    if seen is None:
        return None
    if seen.body_sha256 != digest:
        raise EdgeProblem(
            422, "idempotency_mismatch", "this Idempotency-Key was used for a different batch"
        )
    return seen


def process(
    request, device, key, digest, records, reader, *, too_many_code="too_many_records", checked=None
):
    """Validate (unless ``checked`` already holds the batch's readings), store and remember
    the batch; returns (status, result dict)."""
    limits = edge_limits(request)
    if len(records) > limits.max_records:
        raise EdgeProblem(413, too_many_code, f"more than {limits.max_records} records")
    if checked is None:
        checked = receiver.check_records(records, reader, utcnow())
    result = ingest.ingest(request, device, checked.readings, limits.auto_adopt)
    rejected = sorted(checked.rejected + result.rejected, key=lambda r: r["index"])
    all_bad = bool(records) and len(rejected) == len(records)
    outcome = {
        "received": len(records),
        "accepted": result.stored,
        "rejected": rejected,
        "candidates": result.candidates,
        "adopted": result.adopted,
    }
    status = 422 if all_bad else 200
    if key:
        # In the request's transaction, with the rows it stored: both or neither.
        request.dbsession.connection().execute(
            sa.insert(EdgeBatch.__table__).values(
                device_id=device.id,
                site_id=device.site_id,
                zone_id=device.zone_id,
                idem_key=key,
                body_sha256=digest,
                status_code=status,
                result=outcome,
            )
        )
        mark_written(request.dbsession)
    return status, outcome


# --- our collector --------------------------------------------------------------------------


def _json_error(request, problem: EdgeProblem, details=None):
    response = request.response
    response.status_int = problem.status
    body = {"error": {"code": problem.code, "message": problem.message}}
    if details:
        body["error"]["details"] = details
    if problem.retry_after is not None:
        response.headers["Retry-After"] = str(problem.retry_after)
    return body


@view_config(
    route_name="hosting.edge.telemetry",
    request_method="POST",
    renderer="json",
    permission=HostingPermission.EDGE_UPLOAD,
)
def telemetry(request):
    try:
        device = authenticate(request, legacy=False)
        throttle(request, device)
        raw = read_body(request)
        # A whole valid batch is read and checked in one pass; any other goes the long way,
        # which finds the same problems and names them (receiver.read_batch_fast).
        fast = receiver.read_batch_fast(raw, utcnow())
        if fast is None:
            body, checked = receiver.read_batch(parse(raw)), None
        else:
            body, checked = fast
        check_claims(request, device, body.get("site_id"), body.get("zone_id"))
        key = request.headers.get("Idempotency-Key") or body.get("batch_id") or None
        if key is not None and not isinstance(key, str):
            raise EdgeProblem(422, "bad_batch", "batch_id must be a string")
        digest = hashlib.sha256(raw).hexdigest()
        touch(request, device, body)
        seen = replayed(request, device, key, digest)
        if seen is not None:
            request.response.status_int = seen.status_code
            return _answer(seen.status_code, seen.result, duplicate=True)
        status, outcome = process(
            request, device, key, digest, body["records"], _reader, checked=checked
        )
    except receiver.BodyProblem as problem:
        return _json_error(request, EdgeProblem(problem.status, problem.code, problem.message))
    except EdgeProblem as problem:
        return _json_error(request, problem)
    request.response.status_int = status
    return _answer(status, outcome, duplicate=False)


def _reader(record, now):
    return receiver.read_record(record, now)


def _answer(status: int, outcome: dict, *, duplicate: bool) -> dict:
    if status == 422:
        return {
            "error": {
                "code": "all_records_rejected",
                "message": "every record of the batch was rejected; nothing was stored",
                "details": outcome["rejected"][:100],
            },
            "duplicate": duplicate,
        }
    return {**outcome, "duplicate": duplicate}


@view_config(
    route_name="hosting.edge.discovery",
    request_method="POST",
    renderer="json",
    permission=HostingPermission.EDGE_UPLOAD,
)
def discovery(request):
    """The collector's scan report: unknown miners of the zone become candidates."""
    try:
        device = authenticate(request, legacy=False)
        throttle(request, device)
        body = parse(read_body(request))
        if not isinstance(body, dict) or not isinstance(body.get("candidates"), list):
            raise EdgeProblem(422, "bad_discovery", "candidates must be a list")
        check_claims(request, device, body.get("site_id"), body.get("zone_id"))
        found = body["candidates"][: edge_limits(request).max_records]
        readings, rejected = [], []
        for index, item in enumerate(found):
            try:
                if not isinstance(item, dict):
                    raise receiver.Rejected("a candidate must be an object")
                reading = receiver.Reading(
                    ts=utcnow(),
                    online=True,
                    miner_key=receiver._str(item, "miner_key", 128, required=True).strip(),
                    vendor=receiver._str(item, "vendor", 50),
                    model=receiver._str(item, "model", 100),
                    firmware=receiver._str(item, "firmware", 100),
                    mac=receiver._str(item, "mac", 32),
                )
            except receiver.Rejected as reason:
                rejected.append({"index": index, "reason": str(reason)})
                continue
            readings.append((index, reading))
        touch(request, device, body)
        known = ingest._Index(
            device, ingest._find_miners(request.dbsession, device, [r for _i, r in readings])
        )
        unknown = {r.miner_key: r for _i, r in readings if known.match(r) is None}
        count = ingest._remember_candidates(request.dbsession, device, unknown, {})
    except EdgeProblem as problem:
        return _json_error(request, problem)
    return {"ok": True, "candidates": count, "rejected": rejected}


# --- the legacy HashInsight collector -------------------------------------------------------------


def _legacy_error(request, problem: EdgeProblem, details=None):
    response = request.response
    response.status_int = problem.status
    if problem.retry_after is not None:
        response.headers["Retry-After"] = str(problem.retry_after)
    body = {"success": False, "error": problem.message, "code": problem.code}
    if details:
        body["rejected"] = details
    return body


def _legacy_reader(record, now):
    return receiver.read_legacy_record(record, now)


def _legacy_answer(request, status: int, outcome: dict, duplicate: bool) -> dict:
    request.response.status_int = status
    if status == 422:
        return {
            "success": False,
            "error": "every record was rejected; nothing was stored",
            "code": "all_records_rejected",
            "rejected": outcome["rejected"][:100],
            "duplicate": duplicate,
        }
    return {
        "success": True,
        "message": f"{outcome['accepted']} records stored",
        "received": outcome["received"],
        "processed": outcome["accepted"],
        "rejected": outcome["rejected"],
        "candidates": outcome["candidates"],
        "duplicate": duplicate,
    }


@view_config(
    route_name="hosting.edge.legacy_upload",
    request_method="POST",
    renderer="json",
    permission=HostingPermission.EDGE_UPLOAD,
)
def legacy_upload(request):
    """``POST /api/collector/upload``: a gzip JSON array of records."""
    try:
        device = authenticate(request, legacy=True)
        check_claims(
            request, device, request.headers.get("X-Site-ID"), request.headers.get("X-Zone-ID")
        )
        throttle(request, device)
        mode = (request.headers.get("X-Upload-Mode") or "raw").strip().lower()
        if mode not in ("raw", "latest"):
            raise EdgeProblem(400, "bad_mode", "X-Upload-Mode must be raw or latest")
        raw = read_body(request)
        records = parse(raw)
        if isinstance(records, dict) and isinstance(records.get("records"), list):
            records = records["records"]  # some builds wrap the array
        if not isinstance(records, list):
            raise EdgeProblem(400, "bad_body", "the body must be a JSON array of records")
        touch(request, device, None)
        key = request.headers.get("Idempotency-Key") or None
        digest = hashlib.sha256(raw).hexdigest()
        seen = replayed(request, device, key, digest)
        if seen is not None:
            return _legacy_answer(request, seen.status_code, seen.result, True)
        status, outcome = process(request, device, key, digest, records, _legacy_reader)
    except EdgeProblem as problem:
        return _legacy_error(request, problem)
    return _legacy_answer(request, status, outcome, False)


@view_config(
    route_name="hosting.edge.legacy_batch",
    request_method="POST",
    renderer="json",
    permission=HostingPermission.EDGE_UPLOAD,
)
def legacy_batch(request):
    """``POST /api/edge/v1/telemetry/batch``: a ``telemetry_envelope.v1``."""
    try:
        device = authenticate(request, legacy=True)
        throttle(request, device)
        raw = read_body(request)
        try:
            envelope = receiver.read_envelope(
                parse(raw), max_inflated=edge_limits(request).max_inflated
            )
        except receiver.BodyProblem as problem:
            raise EdgeProblem(problem.status, problem.code, problem.message) from None
        check_claims(
            request,
            device,
            envelope.get("site_id") or request.headers.get("X-Site-ID"),
            envelope.get("zone_id") or request.headers.get("X-Zone-ID"),
        )
        touch(request, device, envelope)
        key = request.headers.get("Idempotency-Key")
        start, end = envelope.get("source_seq_start"), envelope.get("source_seq_end")
        if not key and isinstance(start, int) and isinstance(end, int):
            # The envelope's sequence range names the batch: a resend is the same range.
            key = f"env:{envelope.get('device_id', '')}:{envelope.get('mode', 'raw')}:{start}-{end}"
        digest = hashlib.sha256(raw).hexdigest()
        seen = replayed(request, device, key[:MAX_IDEMPOTENCY_KEY] if key else None, digest)
        if seen is not None:
            return _legacy_answer(request, seen.status_code, seen.result, True)
        status, outcome = process(
            request,
            device,
            key[:MAX_IDEMPOTENCY_KEY] if key else None,
            digest,
            envelope["records"],
            _legacy_reader,
        )
    except EdgeProblem as problem:
        return _legacy_error(request, problem)
    return _legacy_answer(request, status, outcome, False)


def includeme(config):
    config.registry["hosting.edge_limits"] = EdgeLimits(config.get_settings())
    factory = DeviceContext
    config.add_route("hosting.edge.telemetry", "/api/v1/edge/telemetry", factory=factory)
    config.add_route("hosting.edge.discovery", "/api/v1/edge/discovery", factory=factory)
    config.add_route("hosting.edge.legacy_upload", "/api/collector/upload", factory=factory)
    config.add_route("hosting.edge.legacy_batch", "/api/edge/v1/telemetry/batch", factory=factory)
    config.scan("plugins.hosting.edge_views")
