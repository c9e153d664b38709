"""The receiver's database part: match readings to miners, hold unknown ones for adoption,
and hand the rows to the telemetry store — in the request's one transaction.

A reading is matched, within the device's site, by the collector's ``miner_key``, else by
serial or MAC (unique across the farm), else (legacy collectors) by their ``miner_id`` taken
as a serial or as our miner id. Then:

- a miner in the device's zone -> a TelemetryRow;
- a miner in another zone (or site) -> rejected ``foreign_zone``, never stored;
- a retired miner -> rejected ``retired``;
- no miner -> a discovery candidate of the zone, or with ``hosting.auto_adopt = true`` a new
  miner in the ``unassigned`` state whose rows are stored at once.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any, NamedTuple

import sqlalchemy as sa

from hashinsight_core.db import utcnow
from plugins.hosting import services
from plugins.hosting.models import (
    OFFLINE,
    ONLINE,
    RETIRED,
    TELEMETRY_STATUSES,
    UNASSIGNED,
    DiscoveryCandidate,
    EdgeDevice,
    Miner,
)
from plugins.hosting.receiver import Reading
from plugins.hosting.telemetry.rows import FIELDS, TelemetryRow
from plugins.hosting.telemetry.store import store

UNSCOPED = {"unscoped": True}


@dataclass
class Result:
    stored: int
    rejected: list[dict]
    candidates: int
    adopted: int


def _serial(text: str) -> str | None:
    try:
        return services.normalize_serial(text)
    except ValueError:
        return None


def _mac(text: str) -> str | None:
    try:
        return services.normalize_mac(text)
    except ValueError:
        return None


def _candidate_key(reading: Reading) -> str:
    return reading.miner_key or f"id:{reading.legacy_miner_id}"


# What matching and the rows need of a miner, read as plain rows (no ORM objects: a batch
# matches a thousand miners). Miners whose status or key must change are loaded as ORM
# objects afterwards, few and only then (_follow_states, _remember_keys).
_MINER_COLUMNS = (
    Miner.id,
    Miner.site_id,
    Miner.zone_id,
    Miner.customer_id,
    Miner.nominal_ths,
    Miner.status,
    Miner.miner_key,
    Miner.serial,
    Miner.mac,
)


class MinerRef(NamedTuple):
    id: int
    site_id: int
    zone_id: int
    customer_id: int | None
    nominal_ths: float | None
    status: str
    miner_key: str | None
    serial: str | None
    mac: str | None


def _select(db, where) -> list[MinerRef]:
    # Core on the session's connection (same transaction): no ORM loading for a thousand rows,
    # and plain tuples, whose attributes are cheap to read in the loop.
    query = sa.select(*_MINER_COLUMNS).where(where)
    return [MinerRef(*row) for row in db.connection().execute(query)]


_COLUMN_LIST = ", ".join(c.name for c in _MINER_COLUMNS)
_BY_ZONE_POSTGRESQL = (
    f"SELECT {_COLUMN_LIST} FROM {Miner.__tablename__} "  # noqa: S608
    "WHERE zone_id = %s AND site_id = %s"
)
_BY_KEYS_POSTGRESQL = (
    f"SELECT {_COLUMN_LIST} FROM {Miner.__tablename__} "  # noqa: S608
    "WHERE site_id = %s AND miner_key = ANY(%s::varchar[])"
)
# zone id -> how many miners it had when last read: only a hint for choosing the query.
_ZONE_SIZES: dict[int, int] = {}


def _array_literal(texts) -> str:
    """PostgreSQL's text form of a text array: every element quoted, \\ and " escaped."""
    return (
        "{"
        + ",".join(['"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"' for t in texts])
        + "}"
    )


def _fetch(db, sql: str, params: tuple, where) -> list[MinerRef]:
    """``sql`` straight on the driver's cursor (PostgreSQL: the hot path of every upload), else
    ``where`` through SQLAlchemy; on the session's connection and transaction either way."""
    conn = db.connection()
    if conn.dialect.name != "postgresql":
        return _select(db, where)
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql, params)
        return list(map(MinerRef._make, cursor.fetchall()))
    finally:
        cursor.close()


def _by_keys(db, device: EdgeDevice, keys: set[str]) -> list[MinerRef]:
    """The miners of the device's site holding these keys, and perhaps more of its zone.

    A collector's batch usually covers most of its zone: reading the whole zone (one index
    range) is then cheaper for the database than a thousand key probes, and the keys it does
    not hold are looked up in the site. Extra miners never change a match (every lookup is by
    a reading's own key, serial, MAC or id), so this is only about cost.
    """
    site_id, zone_id = device.site_id, device.zone_id
    size = _ZONE_SIZES.get(zone_id)
    found: list[MinerRef] = []
    if size is None or 2 * len(keys) >= size:
        where = sa.and_(Miner.zone_id == zone_id, Miner.site_id == site_id)
        found = _fetch(db, _BY_ZONE_POSTGRESQL, (zone_id, site_id), where)
        if len(_ZONE_SIZES) > 10_000:
            _ZONE_SIZES.clear()
        _ZONE_SIZES[zone_id] = len(found)
        keys = keys - {m.miner_key for m in found}
    if keys:
        where = sa.and_(Miner.site_id == site_id, Miner.miner_key.in_(keys))
        found += _fetch(db, _BY_KEYS_POSTGRESQL, (site_id, _array_literal(keys)), where)
    return found


def _find_miners(db, device: EdgeDevice, readings: list[Reading]) -> list:
    """The miners the readings can match: by miner_key in the device's site, then — only for
    readings no key matched — by serial or MAC anywhere, or by legacy id in the site."""
    site_id = device.site_id  # an ORM attribute: read once, not per miner
    keys = {r.miner_key for r in readings if r.miner_key}
    found = []
    if keys:
        found = _by_keys(db, device, keys)
    site_keys = {m.miner_key for m in found if m.site_id == site_id}
    rest = [r for r in readings if not r.miner_key or r.miner_key not in site_keys]
    serials = {s for r in rest for s in (_serial(r.serial), _serial(r.legacy_miner_id)) if s}
    macs = {m for r in rest for m in (_mac(r.mac), _mac(r.legacy_miner_id)) if m}
    ids = {int(r.legacy_miner_id) for r in rest if r.legacy_miner_id.isdigit()}
    ids = {i for i in ids if 0 < i < 2**31}
    clauses = []
    if serials:
        clauses.append(Miner.serial.in_(serials))
    if macs:
        clauses.append(Miner.mac.in_(macs))
    if ids:
        clauses.append(sa.and_(Miner.site_id == site_id, Miner.id.in_(ids)))
    if clauses:
        seen = {m.id for m in found}
        found += [m for m in _select(db, sa.or_(*clauses)) if m.id not in seen]
    return found


class _Index:
    """The miners by key (in the device's site), serial, MAC and id (in the site). Only the
    key index is built up front: the others are needed when a reading's key matched nothing."""

    def __init__(self, device: EdgeDevice, miners: list):
        self.site_id = site_id = device.site_id
        self.miners = miners
        self.by_key = {m.miner_key: m for m in miners if m.miner_key and m.site_id == site_id}

    @functools.cached_property
    def by_serial(self) -> dict:
        return {m.serial: m for m in self.miners if m.serial}

    @functools.cached_property
    def by_mac(self) -> dict:
        return {m.mac: m for m in self.miners if m.mac}

    @functools.cached_property
    def by_id(self) -> dict:
        return {m.id: m for m in self.miners if m.site_id == self.site_id}

    def match(self, reading: Reading):
        found = self.by_key.get(reading.miner_key) if reading.miner_key else None
        if found is not None:
            return found
        found = self.by_serial.get(_serial(reading.serial) or "")
        found = found or self.by_mac.get(_mac(reading.mac) or "")
        legacy = reading.legacy_miner_id
        if found is None and legacy:
            found = self.by_serial.get(_serial(legacy) or "") or self.by_mac.get(_mac(legacy) or "")
            if found is None and legacy.isdigit():
                found = self.by_id.get(int(legacy))
        return found


assert tuple(TelemetryRow.__dataclass_fields__) == FIELDS  # _row relies on this order


def _row(reading: Reading, miner, device_id: int) -> TelemetryRow:
    # Positional, in TelemetryRow's field order (FIELDS): a thousand per upload, and keyword
    # arguments cost three times as much here.
    return TelemetryRow(
        reading.ts,
        miner.id,
        miner.site_id,
        miner.zone_id,
        miner.customer_id,
        device_id,
        reading.online,
        reading.hashrate_ths,
        reading.hashrate_5s_ths,
        miner.nominal_ths if miner.nominal_ths is not None else reading.expected_ths,
        reading.power_w,
        reading.temp_max_c,
        reading.temp_avg_c,
        reading.fan_min_rpm,
        reading.fans_total,
        reading.fans_failed,
        reading.boards_total,
        reading.boards_ok,
        reading.accepted,
        reading.rejected,
        reading.hw_errors,
        reading.uptime_s,
        reading.pool_url,
        reading.error_class,
    )


def _adopt(db, device: EdgeDevice, reading: Reading, taken_serials, taken_macs) -> Miner:
    serial = _serial(reading.serial)
    mac = _mac(reading.mac)
    miner = Miner(
        serial=serial if serial and serial not in taken_serials else None,
        mac=mac if mac and mac not in taken_macs else None,
        miner_key=reading.miner_key or None,
        model_name=(reading.model or "")[:100],
        nominal_ths=reading.expected_ths,
        firmware=(reading.firmware or "")[:100],
        site_id=device.site_id,
        zone_id=device.zone_id,
        status=UNASSIGNED,
        pool_worker=(reading.pool_worker or "")[:200],
        pool_url=(reading.pool_url or "")[:300],
    )
    db.add(miner)
    return miner


def _remember_candidates(db, device: EdgeDevice, unknown: dict[str, Reading], adopted) -> int:
    if not unknown:
        return 0
    existing = {
        c.miner_key: c
        for c in db.scalars(
            sa.select(DiscoveryCandidate)
            .where(
                DiscoveryCandidate.zone_id == device.zone_id,
                DiscoveryCandidate.miner_key.in_(list(unknown)),
            )
            .execution_options(**UNSCOPED)
        )
    }
    now = utcnow()
    for key, reading in unknown.items():
        candidate = existing.get(key)
        if candidate is None:
            candidate = DiscoveryCandidate(
                site_id=device.site_id,
                zone_id=device.zone_id,
                miner_key=key[:128],
                first_seen_at=now,
                seen_count=0,
                status="new",
            )
            db.add(candidate)
        candidate.device_id = device.id
        candidate.last_seen_at = now
        candidate.seen_count = (candidate.seen_count or 0) + 1
        candidate.serial = (_serial(reading.serial) or reading.serial or "")[:64]
        candidate.mac = _mac(reading.mac) or ""
        candidate.vendor = (reading.vendor or "")[:50]
        candidate.model_name = (reading.model or "")[:100]
        candidate.firmware = (reading.firmware or "")[:100]
        if key in adopted:
            candidate.status = "adopted"
            candidate.miner_id = adopted[key].id
    return len(unknown)


def ingest(request, device: EdgeDevice, readings: list[tuple[int, Reading]], auto_adopt: bool):
    """Store what can be stored; returns a Result (rejections carry the record's index)."""
    db = request.dbsession
    index = _Index(device, _find_miners(db, device, [r for _i, r in readings]))
    rows, rejected = [], []
    unknown: dict[str, Reading] = {}
    latest: dict[int, tuple[dt.datetime, bool, Any]] = {}
    new_keys: dict[int, str] = {}
    pending: list[tuple[int, Reading]] = []
    zone_id, device_id = device.zone_id, device.id
    for position, reading in readings:
        miner = index.match(reading)
        if miner is None:
            unknown[_candidate_key(reading)] = reading
            pending.append((position, reading))
            continue
        if miner.zone_id != zone_id:
            rejected.append(
                {
                    "index": position,
                    "reason": "foreign_zone: the miner is not in this device's zone",
                }
            )
            continue
        if miner.status == RETIRED:
            rejected.append({"index": position, "reason": "retired: the miner is retired"})
            continue
        rows.append(_row(reading, miner, device_id))
        seen = latest.get(miner.id)
        if seen is None or reading.ts >= seen[0]:
            latest[miner.id] = (reading.ts, reading.online, miner)
        if not miner.miner_key and reading.miner_key:
            new_keys.setdefault(miner.id, reading.miner_key)  # matched by serial/MAC
    adopted: dict[str, Miner] = {}
    if auto_adopt and unknown:
        taken_serials = set(index.by_serial)
        taken_macs = set(index.by_mac)
        for key, reading in unknown.items():
            adopted[key] = _adopt(db, device, reading, taken_serials, taken_macs)
        db.flush()
        for miner in adopted.values():
            services.record(
                request,
                miner,
                "create",
                "",
                UNASSIGNED,
                "adopted from telemetry",
                ("device", str(device.id)),
            )
        for _position, reading in pending:
            miner = adopted[_candidate_key(reading)]
            rows.append(_row(reading, miner, device_id))
    candidates = _remember_candidates(db, device, unknown, adopted)
    _follow_states(request, device, latest, new_keys)
    stored = store(db, rows) if rows else 0
    return Result(stored=stored, rejected=rejected, candidates=candidates, adopted=len(adopted))


def _follow_states(request, device: EdgeDevice, latest, new_keys: dict[int, str]) -> None:
    """Remember the key of a miner matched by serial/MAC; a racked miner that reports is
    online, one reported unreachable is offline. Only the miners that change are loaded."""
    moves = {
        miner.id: online
        for _ts, online, miner in latest.values()
        if miner.status in TELEMETRY_STATUSES and miner.status != (ONLINE if online else OFFLINE)
    }
    if not moves and not new_keys:
        return
    query = (
        sa.select(Miner)
        .where(Miner.id.in_(sorted(moves.keys() | new_keys.keys())))
        .execution_options(**UNSCOPED)
    )
    for miner in request.dbsession.scalars(query):
        if miner.id in new_keys and not miner.miner_key:
            miner.miner_key = new_keys[miner.id]
        if miner.id not in moves or miner.status not in TELEMETRY_STATUSES:
            continue  # received, maintenance, RMA, unassigned: a person decides
        target = ONLINE if moves[miner.id] else OFFLINE
        if miner.status != target:
            services.change_status(
                request, miner, target, "reported by the edge device", ("device", str(device.id))
            )
