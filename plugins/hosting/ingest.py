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
from dataclasses import dataclass

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


def _find_miners(db, device: EdgeDevice, readings: list[Reading]) -> list[Miner]:
    keys = {r.miner_key for r in readings if r.miner_key}
    serials = {s for r in readings for s in (_serial(r.serial), _serial(r.legacy_miner_id)) if s}
    macs = {m for r in readings for m in (_mac(r.mac), _mac(r.legacy_miner_id)) if m}
    ids = {int(r.legacy_miner_id) for r in readings if r.legacy_miner_id.isdigit()}
    ids = {i for i in ids if 0 < i < 2**31}
    clauses = []
    if keys:
        clauses.append(sa.and_(Miner.site_id == device.site_id, Miner.miner_key.in_(keys)))
    if serials:
        clauses.append(Miner.serial.in_(serials))
    if macs:
        clauses.append(Miner.mac.in_(macs))
    if ids:
        clauses.append(sa.and_(Miner.site_id == device.site_id, Miner.id.in_(ids)))
    if not clauses:
        return []
    return list(db.scalars(sa.select(Miner).where(sa.or_(*clauses)).execution_options(**UNSCOPED)))


class _Index:
    def __init__(self, device: EdgeDevice, miners: list[Miner]):
        self.by_key = {
            m.miner_key: m for m in miners if m.miner_key and m.site_id == device.site_id
        }
        self.by_serial = {m.serial: m for m in miners if m.serial}
        self.by_mac = {m.mac: m for m in miners if m.mac}
        self.by_id = {m.id: m for m in miners if m.site_id == device.site_id}

    def match(self, reading: Reading) -> Miner | None:
        found = self.by_key.get(reading.miner_key) if reading.miner_key else None
        found = found or self.by_serial.get(_serial(reading.serial) or "")
        found = found or self.by_mac.get(_mac(reading.mac) or "")
        legacy = reading.legacy_miner_id
        if found is None and legacy:
            found = self.by_serial.get(_serial(legacy) or "") or self.by_mac.get(_mac(legacy) or "")
            if found is None and legacy.isdigit():
                found = self.by_id.get(int(legacy))
        return found


def _row(reading: Reading, miner: Miner, device: EdgeDevice):
    from plugins.hosting.telemetry.rows import TelemetryRow

    return TelemetryRow(
        ts=reading.ts,
        miner_id=miner.id,
        site_id=miner.site_id,
        zone_id=miner.zone_id,
        customer_id=miner.customer_id,
        device_id=device.id,
        online=reading.online,
        hashrate_ths=reading.hashrate_ths,
        hashrate_5s_ths=reading.hashrate_5s_ths,
        nominal_ths=miner.nominal_ths if miner.nominal_ths is not None else reading.expected_ths,
        power_w=reading.power_w,
        temp_max_c=reading.temp_max_c,
        temp_avg_c=reading.temp_avg_c,
        fan_min_rpm=reading.fan_min_rpm,
        fans_total=reading.fans_total,
        fans_failed=reading.fans_failed,
        boards_total=reading.boards_total,
        boards_ok=reading.boards_ok,
        accepted=reading.accepted,
        rejected=reading.rejected,
        hw_errors=reading.hw_errors,
        uptime_s=reading.uptime_s,
        pool_url=reading.pool_url,
        error_class=reading.error_class,
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
    latest: dict[int, tuple[dt.datetime, bool, Miner]] = {}
    pending: list[tuple[int, Reading]] = []
    for position, reading in readings:
        miner = index.match(reading)
        if miner is None:
            unknown[_candidate_key(reading)] = reading
            pending.append((position, reading))
            continue
        if miner.zone_id != device.zone_id:
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
        rows.append(_row(reading, miner, device))
        _note_state(latest, miner, reading)
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
            rows.append(_row(reading, miner, device))
    candidates = _remember_candidates(db, device, unknown, adopted)
    _follow_states(request, device, latest)
    stored = 0
    if rows:
        from plugins.hosting.telemetry.store import store

        stored = store(db, rows)
    return Result(stored=stored, rejected=rejected, candidates=candidates, adopted=len(adopted))


def _note_state(latest, miner: Miner, reading: Reading) -> None:
    seen = latest.get(miner.id)
    if seen is None or reading.ts >= seen[0]:
        latest[miner.id] = (reading.ts, reading.online, miner)
    if not miner.miner_key and reading.miner_key:
        miner.miner_key = reading.miner_key  # matched by serial/MAC: remember the key


def _follow_states(request, device: EdgeDevice, latest) -> None:
    """A racked miner that reports is online; one reported unreachable is offline."""
    for _ts, online, miner in latest.values():
        if miner.status not in TELEMETRY_STATUSES:
            continue  # received, maintenance, RMA, unassigned: a person decides
        target = ONLINE if online else OFFLINE
        if miner.status != target:
            services.change_status(
                request, miner, target, "reported by the edge device", ("device", str(device.id))
            )
