"""Run approved commands: fetch, check, execute, verify from telemetry, acknowledge.

    GET /api/v1/edge/commands
        -> parse -> already executed here? (duplicate) -> site / zone / expiry -> signature hook
        -> miner known? -> per-miner lock (a busy miner: leave the command for the next fetch)
        -> snapshot before -> vendor control surface -> poll until the effect shows (or time out)
        -> POST /api/v1/edge/commands/{id}/ack  {status, error_class, before, after, duration_ms}

Acks that cannot be delivered wait in the spool and go first at the next fetch. A command id
is claimed in the spool before anything touches the miner, so a repeated command is refused as
a duplicate even across restarts; a command interrupted by a crash is acknowledged as failed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from edge_collector import signing
from edge_collector.control import execute, read_work_mode
from edge_collector.rpc import MinerError
from edge_collector.wire import (
    COMMAND_ACK_PATH,
    COMMANDS_PATH,
    AckStatus,
    Action,
    Command,
    ErrorClass,
    MinerRecord,
    ack_body,
    parse_iso,
    utc_now_iso,
)

if TYPE_CHECKING:
    from edge_collector.service import Collector

log = logging.getLogger("hashinsight.edge.commands")


def signature_problem(
    command: Command, raw: dict[str, Any], keys: dict[str, bytes], *, allow_unsigned: bool
) -> tuple[str, str] | None:
    """THE verification hook for command signatures: (error class, reason), or None to run.

    A signed command runs only when a trusted key (``[commands] public_keys`` or
    ``HASHINSIGHT_COMMAND_PUBLIC_KEYS``) signed exactly these bytes and its approvals satisfy
    its risk level (:mod:`edge_collector.signing`): ``bad_signature`` / ``bad_approvals``
    otherwise. An unsigned command runs only with ``[commands] allow_unsigned = true``.
    """
    if not command.signature:
        if allow_unsigned:
            return None
        return ErrorClass.UNSIGNED, "unsigned command refused ([commands] allow_unsigned is false)"
    if not keys:
        return (
            ErrorClass.BAD_SIGNATURE,
            "no trusted command key is configured, so the signature cannot be checked",
        )
    try:
        signing.verify(raw, keys)
    except signing.SignatureProblem as problem:
        return problem.code, problem.message
    return None


def verify_command_signature(
    command: Command,
    *,
    allow_unsigned: bool,
    raw: dict[str, Any] | None = None,
    keys: dict[str, bytes] | None = None,
) -> tuple[bool, str]:
    """(accepted, reason): :func:`signature_problem` as a yes/no."""
    problem = signature_problem(command, raw or {}, keys or {}, allow_unsigned=allow_unsigned)
    return (True, "") if problem is None else (False, problem[1])


def configured_keys(config) -> dict[str, bytes]:
    """The trusted public keys: the config's ``[commands] public_keys`` (when this collector
    version's config has it) and ``HASHINSIGHT_COMMAND_PUBLIC_KEYS``."""
    listed = getattr(config.commands, "public_keys", ()) or ()
    try:
        return signing.trusted_keys(listed)
    except ValueError as error:
        log.error("command public keys: %s", error)
        return {}


class CommandRunner:
    def __init__(self, collector: Collector) -> None:
        self.collector = collector
        self.config = collector.config
        self.locks: dict[str, asyncio.Lock] = {}
        self.running: set[asyncio.Task] = set()
        self.keys = configured_keys(self.config)
        self._recover_interrupted()

    def _recover_interrupted(self) -> None:
        spool = self.collector.spool
        with spool._lock:
            rows = spool._db.execute(
                "SELECT command_id FROM commands WHERE status = 'running'"
            ).fetchall()
        for (command_id,) in rows:
            ack = self._ack(
                command_id, AckStatus.FAILED, ErrorClass.LOCAL,
                "the collector restarted while running this command; its effect is unknown",
            )  # fmt: skip
            spool.finish_command(command_id, AckStatus.FAILED, ack)

    def _ack(
        self,
        command_id: str,
        status: AckStatus,
        error_class: str,
        message: str,
        *,
        command: Command | None = None,
        started: float | None = None,
        started_at: str = "",
        verified: bool = False,
        before: MinerRecord | None = None,
        after: MinerRecord | None = None,
    ) -> dict[str, Any]:
        now = time.monotonic()
        return ack_body(
            command_id=command_id,
            status=status,
            error_class=error_class,
            message=message,
            device_id=self.collector.device_id,
            site_id=self.config.server.site_id,
            miner_key=command.miner_key if command else "",
            action=command.action if command else "",
            started_at=started_at or utc_now_iso(),
            finished_at=utc_now_iso(),
            duration_ms=int((now - started) * 1000) if started else 0,
            verified=verified,
            before=before.snapshot() if before else None,
            after=after.snapshot() if after else None,
        )

    async def _send_ack(self, command_id: str, ack: dict[str, Any]) -> bool:
        path = COMMAND_ACK_PATH.format(command_id=command_id)
        response = await asyncio.to_thread(self.collector.server.request, "POST", path, ack)
        if 200 <= response.status < 300:
            self.collector.spool.mark_acked(command_id)
            return True
        log.warning("ack for %s not delivered: %s", command_id, response.error or response.status)
        return False

    async def flush_acks(self) -> None:
        for command_id, ack in self.collector.spool.pending_acks():
            if not await self._send_ack(command_id, ack):
                return

    async def fetch(self) -> list[Any]:
        response = await asyncio.to_thread(
            self.collector.server.request, "GET", COMMANDS_PATH + "?limit=100"
        )
        if response.status != 200 or not isinstance(response.body, dict):
            if response.status not in (200, 204):
                log.warning("command fetch failed: %s", response.error or response.status)
            return []
        commands = response.body.get("commands")
        return commands if isinstance(commands, list) else []

    async def poll_once(self) -> list[asyncio.Task]:
        """Flush owed acks, fetch commands, start each; returns the tasks started."""
        await self.flush_acks()
        started = []
        for raw in await self.fetch():
            task = asyncio.create_task(self.handle(raw))
            self.running.add(task)
            task.add_done_callback(self.running.discard)
            started.append(task)
        return started

    async def run(self, stop: asyncio.Event) -> None:
        interval = self.config.commands.poll_interval_s
        while not stop.is_set():
            try:
                await self.poll_once()
            except Exception:
                log.exception("command loop failed")
            try:
                await asyncio.wait_for(stop.wait(), interval)
            except TimeoutError:
                pass
        if self.running:
            await asyncio.gather(*self.running, return_exceptions=True)

    async def _finish(self, command_id: str, status: AckStatus, ack: dict[str, Any]) -> dict:
        self.collector.spool.finish_command(command_id, status, ack)
        await self._send_ack(command_id, ack)
        return ack

    async def handle(self, raw: Any) -> dict[str, Any] | None:
        """Check and run one command; returns the ack sent (None when deferred)."""
        try:
            command = Command.from_wire(raw)
        except ValueError as error:
            command_id = raw.get("id") if isinstance(raw, dict) else None
            if not isinstance(command_id, str) or not command_id:
                log.error("dropping a command without an id: %s", error)
                return None
            ack = self._ack(command_id, AckStatus.REJECTED, ErrorClass.INVALID, str(error))
            if not self.collector.spool.claim_command(command_id):
                ack = self._ack(command_id, AckStatus.DUPLICATE, ErrorClass.DUPLICATE, "seen")
            return await self._finish(command_id, AckStatus(ack["status"]), ack)
        refusal = self._refusal(command, raw)
        if refusal is not None:
            if not self.collector.spool.claim_command(command.id):
                return await self._duplicate(command)
            log.warning("refused command %s: %s", command.id, refusal[1])
            ack = self._ack(command.id, AckStatus.REJECTED, *refusal, command=command)
            return await self._finish(command.id, AckStatus.REJECTED, ack)
        lock = self.locks.setdefault(command.miner_key, asyncio.Lock())
        if lock.locked():
            # One command at a time per miner; the server keeps it until it is acked.
            return None
        async with lock:
            if not self.collector.spool.claim_command(command.id):
                return await self._duplicate(command)
            info = self.collector.miner_by_key(command.miner_key)
            return await self._execute(command, info)

    async def _duplicate(self, command: Command) -> dict[str, Any]:
        previous = self.collector.spool.command_status(command.id)
        ack = self._ack(
            command.id, AckStatus.DUPLICATE, ErrorClass.DUPLICATE,
            f"command already executed here (status {previous})", command=command,
        )  # fmt: skip
        await self._send_ack(command.id, ack)
        return ack

    def _refusal(self, command: Command, raw: Any = None) -> tuple[str, str] | None:
        """Why this command must not run here, or None."""
        config = self.config
        raw = raw if isinstance(raw, dict) else {}
        # The server names its site and zone by id and by name; either matches the config.
        sites = {command.site_id, str(raw.get("site_name") or "")} - {""}
        if config.server.site_id not in sites:
            return ErrorClass.SITE_MISMATCH, f"command is for site {command.site_id!r}"
        zones = {command.zone_id, str(raw.get("zone_name") or "")} - {""}
        if config.server.zone_id and config.server.zone_id not in zones:
            return ErrorClass.ZONE_MISMATCH, f"command is for zone {command.zone_id!r}"
        if parse_iso(command.expires_at) <= datetime.now(UTC):
            return ErrorClass.EXPIRED, f"command expired at {command.expires_at}"
        problem = signature_problem(
            command, raw, self.keys, allow_unsigned=config.commands.allow_unsigned
        )
        if problem is not None:
            return problem
        if self.collector.miner_by_key(command.miner_key) is None:
            return ErrorClass.UNKNOWN_MINER, "no such miner on this collector"
        if command.action not in {a.value for a in Action}:
            return ErrorClass.INVALID, f"unknown action {command.action!r}"
        if command.action == Action.SET_POOL and not command.params.get("url"):
            return ErrorClass.INVALID, "set_pool needs params.url"
        index = command.params.get("index")
        if command.action == Action.SWITCH_POOL and (
            isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 64
        ):
            return ErrorClass.INVALID, "switch_pool needs params.index (0-63)"
        return None

    async def _execute(self, command: Command, info) -> dict[str, Any]:
        poller = self.collector.poller
        started, started_at = time.monotonic(), utc_now_iso()
        before = await poller.poll(info)
        identity = info.identity
        vendor = (identity.vendor if identity else "") or before.vendor
        try:
            await execute(
                vendor,
                info.ip,
                command.action,
                command.params,
                client=poller.client,
                credentials=self.config.credentials,
                protocol=identity.protocol if identity else "",
                hint=identity.hint if identity else "",
                v3_client=poller.v3,
            )
        except (MinerError, KeyError, TypeError, ValueError) as error:
            kind = error.error_class if isinstance(error, MinerError) else ErrorClass.INVALID
            message = error.message if isinstance(error, MinerError) else f"bad params: {error}"
            ack = self._ack(
                command.id, AckStatus.FAILED, kind, message, command=command,
                started=started, started_at=started_at, before=before,
            )  # fmt: skip
            return await self._finish(command.id, AckStatus.FAILED, ack)
        verified, after = await self._verify(command, info, before)
        status = AckStatus.COMPLETED if verified else AckStatus.FAILED
        ack = self._ack(
            command.id,
            status,
            "" if verified else ErrorClass.VERIFY_FAILED,
            "effect seen in telemetry" if verified else "effect not seen before the deadline",
            command=command,
            started=started,
            started_at=started_at,
            verified=verified,
            before=before,
            after=after,
        )
        log.info("command %s %s on %s: %s", command.id, command.action, info.miner_key, status)
        return await self._finish(command.id, status, ack)

    async def _verify(self, command: Command, info, before: MinerRecord):
        """Poll until the action's effect shows; returns (seen, last record)."""
        poller = self.collector.poller
        settings = self.config.commands
        deadline = time.monotonic() + settings.verify_timeout_s
        after = before
        went_down = False
        while time.monotonic() < deadline:
            await asyncio.sleep(settings.verify_interval_s)
            after = await poller.poll(info)
            went_down = went_down or not after.online
            if await self._effect_seen(command, info, before, after, went_down):
                return True, after
        return False, after

    async def _effect_seen(self, command, info, before, after, went_down) -> bool:
        if not after.online:
            return False
        action, params = command.action, command.params
        expected = after.hashrate_expected_ghs or before.hashrate_expected_ghs or 0
        if action == Action.SLEEP:
            return after.hashrate_ghs is not None and after.hashrate_ghs <= max(
                1.0, 0.02 * expected
            )
        if action == Action.WAKE:
            return bool(after.hashrate_ghs) and after.hashrate_ghs > 0.05 * expected
        if action == Action.REBOOT:
            fresh = after.uptime_s is not None and before.uptime_s is not None
            return went_down or (fresh and after.uptime_s < before.uptime_s)
        if action == Action.SET_POOL:
            return after.pool_url == params.get("url")
        if action == Action.SWITCH_POOL:
            return any(pool.active and pool.index == params.get("index") for pool in after.pools)
        if action == Action.SET_POWER_LIMIT:
            return after.power_limit_w == float(params.get("watts", -1))
        if action == Action.SET_WORK_MODE:
            protocol = info.identity.protocol if info.identity else ""
            try:
                mode = await read_work_mode(
                    protocol,
                    after.vendor,
                    info.ip,
                    credentials=self.config.credentials,
                    v3_client=self.collector.poller.v3,
                )
            except MinerError:
                return False
            return (after.work_mode if mode is None else mode) == params.get("mode")
        return False
