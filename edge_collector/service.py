"""``hashinsight-edge run``: discovery, the raw and latest poll loops, upload, commands, status.

targets --scan--> miners --raw loop (60 s, all) ------> spool (SQLite) --upload--> server
                         --latest loop (10 s, window) ->   |
                  commands <--fetch-- server; execute -> verify -> ack --> server
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import signal
import sys
import time
from typing import Any

from edge_collector.btminer_v3 import BtminerV3Client
from edge_collector.config import Config
from edge_collector.discovery import expand_targets, scan
from edge_collector.poller import MinerInfo, Poller, miner_key_for
from edge_collector.rpc import CgminerClient
from edge_collector.spool import Spool
from edge_collector.uploader import ServerClient, Uploader
from edge_collector.wire import (
    DISCOVERY_PATH,
    STREAM_LATEST,
    STREAM_RAW,
    MinerRecord,
    discovery_body,
    utc_now_iso,
)

log = logging.getLogger("hashinsight.edge")
# How long a stopping collector waits for an upload in flight to be answered.
STOP_GRACE_S = 10.0


class JsonFormatter(logging.Formatter):
    """One JSON object per line: easy to ship to any log store."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": utc_now_iso(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def setup_logging(fmt: str = "text", level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("hashinsight")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def in_shard(ip: str, index: int, total: int) -> bool:
    """Stable assignment of a miner to one of ``total`` collectors of a big site."""
    if total <= 1:
        return True
    return int(hashlib.sha256(ip.encode()).hexdigest()[:8], 16) % total == index


class Collector:
    def __init__(self, config: Config) -> None:
        self.config = config
        upload = config.upload
        self.spool = Spool(
            config.state_dir / "spool.sqlite3",
            max_bytes=int(upload.max_spool_mb * 1024 * 1024),
            max_age_s={
                STREAM_RAW: upload.max_spool_age_h * 3600,
                STREAM_LATEST: upload.latest_max_age_s,
            },
        )
        self.device_id, self.salt = self.spool.identity()
        miners = config.miners
        self.poller = Poller(
            CgminerClient(port=miners.port, timeout=miners.timeout_s),
            concurrency=miners.concurrency,
            v3_client=BtminerV3Client(port=miners.v3_port, timeout=miners.timeout_s),
        )
        self.infos: dict[str, MinerInfo] = {}
        self.stop = asyncio.Event()
        self.server = ServerClient(
            config.server.url,
            config.server.device_token,
            device_id=self.device_id,
            timeout=config.server.timeout_s,
            ca_file=config.server.ca_file,
        )
        self.uploader = Uploader(
            self.spool,
            self.server,
            site_id=config.server.site_id,
            zone_id=config.server.zone_id,
            batch_size=upload.batch_size,
            backoff_initial_s=upload.backoff_initial_s,
            backoff_max_s=upload.backoff_max_s,
            shard=(config.collector.shard_index, config.collector.shard_total),
        )
        self.commands = None
        if config.commands.enabled:
            from edge_collector.commands import CommandRunner

            self.commands = CommandRunner(self)
        self._latest_offset = 0

    # --- discovery ------------------------------------------------------------------------

    def shard_targets(self) -> list[str]:
        """The configured target addresses that belong to this collector's shard."""
        collector = self.config.collector
        return [
            ip
            for ip in expand_targets(self.config.miners.targets)
            if in_shard(ip, collector.shard_index, collector.shard_total)
        ]

    async def discover(self) -> int:
        targets = self.shard_targets()
        found = await scan(
            targets,
            port=self.config.miners.port,
            timeout=self.config.miners.scan_timeout_s,
            concurrency=self.config.miners.scan_concurrency,
            v3_port=self.config.miners.v3_port,
        )
        from edge_collector.vendors import Identity

        for candidate in found:
            info = self.infos.get(candidate.ip)
            if info is None:
                info = MinerInfo(candidate.ip, miner_key_for(candidate.ip, self.salt))
                self.infos[candidate.ip] = info
            info.identity = Identity(
                vendor=candidate.vendor,
                model=candidate.model,
                firmware=candidate.firmware,
                api_version=candidate.api_version,
                mac=candidate.mac,
                hint=candidate.hint,
                protocol=candidate.protocol,
                serial=candidate.serial,
            )
        share = self.config.collector.share_miner_ips
        body = discovery_body(
            device_id=self.device_id,
            site_id=self.config.server.site_id,
            zone_id=self.config.server.zone_id,
            candidates=[
                c.to_wire(miner_key=self.infos[c.ip].miner_key, include_ip=share) for c in found
            ],
        )
        response = await asyncio.to_thread(
            self.server.request, "POST", DISCOVERY_PATH, body, gzip_body=True
        )
        if not 200 <= response.status < 300:
            log.warning("discovery report not delivered: %s", response.error or response.status)
        log.info("discovery: %d miners in %d addresses", len(found), len(targets))
        self.spool.set(miners_seen=str(len(self.infos)), last_scan_at=utc_now_iso())
        return len(found)

    def miner_by_key(self, key: str) -> MinerInfo | None:
        return next((i for i in self.infos.values() if i.miner_key == key), None)

    # --- polling --------------------------------------------------------------------------

    def _wire(self, records: list[MinerRecord]) -> list[dict[str, Any]]:
        share = self.config.collector.share_miner_ips
        return [record.to_wire(include_ip=share) for record in records]

    async def poll_raw(self) -> list[MinerRecord]:
        started = time.monotonic()
        records = await self.poller.poll_many(self.infos.values())
        await asyncio.to_thread(self.spool.add, STREAM_RAW, self._wire(records))
        self.uploader.wake.set()
        online = sum(r.online for r in records)
        errors: dict[str, int] = {}
        for record in records:
            if record.error_class:
                errors[record.error_class] = errors.get(record.error_class, 0) + 1
        self.spool.set(
            last_cycle_at=utc_now_iso(),
            last_cycle_s=f"{time.monotonic() - started:.2f}",
            miners_seen=str(len(self.infos)),
            miners_online=str(online),
            last_cycle_errors=errors,
        )
        log.info(
            "raw cycle: %d polled, %d online in %.2f s", len(records), online,
            time.monotonic() - started,
        )  # fmt: skip
        return records

    async def poll_latest(self) -> list[MinerRecord]:
        infos = list(self.infos.values())
        window = self.config.poll.latest_window
        if window and len(infos) > window:
            # Big sites: a rolling window keeps each tick short; every miner comes round.
            start = self._latest_offset % len(infos)
            chosen = (infos[start:] + infos[:start])[:window]
            self._latest_offset = start + window
        else:
            chosen = infos
        records = await self.poller.poll_many(chosen, latest=True)
        await asyncio.to_thread(self.spool.add, STREAM_LATEST, self._wire(records))
        self.uploader.wake.set()
        return records

    async def _every(self, interval: float, func) -> None:
        next_at = time.monotonic()
        while not self.stop.is_set():
            try:
                await func()
            except Exception:
                log.exception("%s failed", getattr(func, "__name__", func))
            next_at += interval
            # Keep the cadence; if a cycle overran, start the next one right away.
            next_at = max(next_at, time.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), max(0.0, next_at - time.monotonic()))

    async def run(self, *, once: bool = False, duration_s: float | None = None) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stop.set)
        if duration_s:
            loop.call_later(duration_s, self.stop.set)
        log.info("collector %s starting (site %s)", self.device_id, self.config.server.site_id)
        try:
            await self.discover()
            if once:
                await self.poll_raw()
                return 0 if await self.uploader.drain(deadline_s=30) else 1
            uploading = asyncio.create_task(self.uploader.run(self.stop))
            tasks = [
                asyncio.create_task(self._every(self.config.poll.raw_interval_s, self.poll_raw)),
            ]
            if self.config.poll.latest_interval_s > 0:
                tasks.append(
                    asyncio.create_task(
                        self._every(self.config.poll.latest_interval_s, self.poll_latest)
                    )
                )
            if self.config.miners.rescan_interval_s > 0:
                interval = self.config.miners.rescan_interval_s

                async def rescan() -> None:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.stop.wait(), interval)
                    if not self.stop.is_set():
                        await self._every(interval, self.discover)

                tasks.append(asyncio.create_task(rescan()))
            if self.commands is not None:
                tasks.append(asyncio.create_task(self.commands.run(self.stop)))
            await self.stop.wait()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            # The uploader stops by itself between batches. A batch in flight gets a moment to
            # be answered and confirmed, so a clean stop does not leave a delivered batch in
            # the spool to be sent again (harmless - same key - but wasteful).
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(uploading, STOP_GRACE_S)
            return 0
        finally:
            log.info("collector stopping; spool depth %s", self.spool.depth())
            self.spool.close()


def status_summary(spool: Spool) -> dict[str, Any]:
    """What ``hashinsight-edge status`` prints: read from the spool's state."""
    errors = spool.get("last_cycle_errors", "{}")
    return {
        "device_id": spool.get("device_id"),
        "miners_seen": int(spool.get("miners_seen", "0") or 0),
        "miners_online": int(spool.get("miners_online", "0") or 0),
        "last_cycle_at": spool.get("last_cycle_at"),
        "last_cycle_s": spool.get("last_cycle_s"),
        "last_upload_at": spool.get("last_upload_at"),
        "last_upload_error": spool.get("last_upload_error"),
        "spool_depth": spool.depth(),
        "spool_bytes": spool.size_bytes(),
        "dropped": {s: spool.dropped(s) for s in (STREAM_RAW, STREAM_LATEST)},
        "errors_last_cycle": json.loads(errors) if errors else {},
        "pending_acks": len(spool.pending_acks()),
    }
