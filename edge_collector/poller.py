"""Poll many miners with bounded concurrency and turn each answer into a MinerRecord.

Per miner we remember what was learned (vendor/model, whether '+' joins work, consecutive
failures), so a steady-state poll of a stock S19 is three short connections and of a
Whatsminer or Avalon one. A miner that keeps failing is polled less often (exponential
backoff to five minutes) so dead hosts cannot eat the cycle.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from edge_collector.btminer_v3 import BtminerV3Client
from edge_collector.rpc import CgminerClient, MinerError
from edge_collector.vendors import (
    LATEST_COMMANDS,
    PROTOCOL_BTMINER_V3,
    REPORT_COMMANDS,
    UNKNOWN,
    V3_LATEST,
    V3_REPORT,
    WHATSMINER,
    Identity,
    identify,
    identify_v3,
    normalize,
)
from edge_collector.wire import ErrorClass, MinerRecord, utc_now_iso

OFFLINE_BACKOFF_START_S = 10.0
OFFLINE_BACKOFF_MAX_S = 300.0


def miner_key_for(ip: str, salt: str) -> str:
    """A stable key for a miner that does not reveal its address without the edge's salt."""
    return "mk_" + hashlib.sha256(f"{salt}:{ip}".encode()).hexdigest()[:20]


@dataclass(slots=True)
class MinerInfo:
    ip: str
    miner_key: str
    identity: Identity | None = None
    joins: bool | None = None  # None until we have tried
    text: bool = False
    failures: int = 0
    retry_after: float = 0.0
    last: MinerRecord | None = field(default=None, repr=False)


class Poller:
    def __init__(
        self,
        client: CgminerClient | None = None,
        *,
        concurrency: int = 1000,
        v3_client: BtminerV3Client | None = None,
    ) -> None:
        self.client = client or CgminerClient()
        self.v3 = v3_client or BtminerV3Client(timeout=self.client.timeout)
        self.concurrency = max(1, concurrency)

    async def identify(self, info: MinerInfo) -> Identity:
        """Ask ``version`` (and ``devdetails`` where it helps) and remember the answer.

        A miner that refuses 4028 may be a Whatsminer that only speaks API v3 (port 4433).
        """
        details: dict | None = None
        try:
            version = await self.client.command(info.ip, "version", text=info.text, check=False)
        except MinerError as error:
            if error.error_class is not ErrorClass.REFUSED:
                raise
            try:
                device = await self.v3.msg(info.ip, "get.device.info")
            except MinerError:
                raise error from None
            if "miner" not in device:
                raise error from None
            info.identity = identify_v3(device)
            return info.identity
        ident = identify(version)
        if ident.vendor in (UNKNOWN, WHATSMINER) and not ident.hint:
            # Whatsminer's model lives in devdetails; on other firmware it may be denied.
            try:
                details = await self.client.command(info.ip, "devdetails", check=False)
            except MinerError:
                details = None
            ident = identify(version, details)
        info.identity = ident
        return ident

    async def poll(self, info: MinerInfo, *, latest: bool = False) -> MinerRecord:
        """One poll of one miner; never raises for miner-side trouble."""
        stamp = utc_now_iso()
        try:
            ident = info.identity or await self.identify(info)
            if ident.protocol == PROTOCOL_BTMINER_V3:
                sections = V3_LATEST if latest else V3_REPORT
                replies, joined = await self.v3.report(info.ip, sections), False
            else:
                commands = (LATEST_COMMANDS if latest else REPORT_COMMANDS)[ident.vendor]
                replies, joined = await self.client.report(
                    info.ip, commands, join=info.joins is not False, text=info.text
                )
        except MinerError as error:
            ident = info.identity or Identity()
            replies, joined = {"summary": error}, False
        if info.joins is None and len(commands_of(replies)) > 1:
            summary = replies.get("summary")
            if isinstance(summary, dict):
                info.joins = joined
        record = normalize(
            replies, identity=ident, miner_key=info.miner_key, ip=info.ip, timestamp=stamp
        )
        self._account(info, record)
        return record

    def _account(self, info: MinerInfo, record: MinerRecord) -> None:
        now = time.monotonic()
        if record.online:
            info.failures, info.retry_after = 0, 0.0
        else:
            info.failures += 1
            if info.failures >= 2:
                delay = OFFLINE_BACKOFF_START_S * 2 ** (info.failures - 2)
                info.retry_after = now + min(OFFLINE_BACKOFF_MAX_S, delay)
            if record.error_class in (ErrorClass.REFUSED, ErrorClass.TIMEOUT):
                # It may come back as a different miner (swap, new firmware): re-identify.
                info.identity = None if info.failures >= 3 else info.identity
        info.last = record

    async def poll_many(
        self, infos: Iterable[MinerInfo], *, latest: bool = False, honour_backoff: bool = True
    ) -> list[MinerRecord]:
        """Poll every miner with at most ``concurrency`` connections open at once."""
        now = time.monotonic()
        pending = [i for i in infos if not honour_backoff or i.retry_after <= now]
        records: list[MinerRecord] = []
        iterator = iter(pending)

        async def worker() -> None:
            for info in iterator:
                records.append(await self.poll(info, latest=latest))

        workers = min(self.concurrency, len(pending))
        if workers:
            await asyncio.gather(*(worker() for _ in range(workers)))
        return records


def commands_of(replies: dict) -> list[str]:
    return [name for name in replies if name != "id"]
