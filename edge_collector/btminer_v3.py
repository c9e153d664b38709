"""Whatsminer API v3 (btminer firmware from 2024 on): TCP 4433, length-prefixed JSON frames.

    request   <u32 little-endian length><{"cmd": "get.device.info", "param": ...}>
    reply     <u32 little-endian length><{"code": 0, "when": 1700000000, "msg": {...}, "desc": cmd}>

Reads (``get.*``) need nothing else. Writes (``set.*``) carry ``ts`` (unix seconds),
``account`` ("super") and ``token``: the first 8 characters of
``base64(sha256(cmd + password + salt + ts))``, where ``salt`` comes from
``get.device.info`` (``param: "salt"``). A wrong password therefore fails per command, and the
salt is per miner, so a token cannot be replayed on another miner or for another command.

Shared by the collector (client, parser) and the simulator (token check, framing), like
``btminer_crypto`` is for API v2. Failures become ``MinerError`` with an ``ErrorClass``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import struct
import time
from typing import Any

from edge_collector.rpc import MinerError, _classify
from edge_collector.wire import ErrorClass

V3_PORT = 4433
ACCOUNT = "super"
MAX_FRAME = 512 * 1024
_HEADER = struct.Struct("<I")


def frame(body: dict[str, Any]) -> bytes:
    data = json.dumps(body, separators=(",", ":")).encode()
    return _HEADER.pack(len(data)) + data


def frame_bytes(data: bytes) -> bytes:
    return _HEADER.pack(len(data)) + data


def token(cmd: str, password: str, salt: str, ts: int) -> str:
    """The write token: first 8 characters of base64(sha256(cmd+password+salt+ts))."""
    digest = hashlib.sha256(f"{cmd}{password}{salt}{ts}".encode()).digest()
    return base64.b64encode(digest).decode()[:8]


def split_frames(buffer: bytes, limit: int = MAX_FRAME) -> tuple[list[bytes], bytes]:
    """Cut complete frames off the front of ``buffer``; return (payloads, rest).

    Raises ValueError when a frame announces more than ``limit`` bytes.
    """
    payloads = []
    while len(buffer) >= 4:
        (length,) = _HEADER.unpack_from(buffer)
        if length > limit:
            raise ValueError(f"frame of {length} bytes exceeds {limit}")
        if len(buffer) < 4 + length:
            break
        payloads.append(buffer[4 : 4 + length])
        buffer = buffer[4 + length :]
    return payloads, buffer


class _V3Exchange(asyncio.Protocol):
    """Send one frame, read one frame back, close."""

    __slots__ = ("request", "limit", "future", "buffer", "transport")

    def __init__(self, request: bytes, limit: int, future: asyncio.Future) -> None:
        self.request = request
        self.limit = limit
        self.future = future
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        if self.future.done():
            return
        self.buffer += data
        try:
            payloads, _ = split_frames(self.buffer, self.limit)
        except ValueError as error:
            self.future.set_exception(MinerError(ErrorClass.OVERSIZED, str(error)))
            self.transport.abort()  # type: ignore[union-attr]
            return
        if payloads:
            self.future.set_result(payloads[0])
            self.transport.close()  # type: ignore[union-attr]

    def eof_received(self) -> bool:
        self._cut_short()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.future.done():
            if exc is None:
                self._cut_short()
            else:
                self.future.set_exception(_classify(exc))

    def _cut_short(self) -> None:
        if self.future.done():
            return
        kind = ErrorClass.TRUNCATED if self.buffer else ErrorClass.RESET
        self.future.set_exception(MinerError(kind, "the miner closed before a whole frame"))


def decode(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        raise MinerError(ErrorClass.MALFORMED, f"unreadable v3 reply ({len(data)} bytes)") from None
    if not isinstance(value, dict):
        raise MinerError(ErrorClass.MALFORMED, "v3 reply is not a JSON object")
    return value


def check(reply: dict[str, Any], cmd: str) -> dict[str, Any]:
    """Raise MinerError unless ``code`` is 0; return the reply."""
    code = reply.get("code")
    if code == 0:
        return reply
    msg = reply.get("msg")
    text = msg if isinstance(msg, str) else json.dumps(msg)[:200]
    lowered = text.lower()
    if any(word in lowered for word in ("token", "permission", "password", "account", "auth")):
        raise MinerError(ErrorClass.AUTH_FAILED, f"{cmd}: {text} (code {code})")
    if "invalid command" in lowered or "unknown command" in lowered:
        raise MinerError(ErrorClass.UNSUPPORTED, f"{cmd}: {text} (code {code})")
    raise MinerError(ErrorClass.API_ERROR, f"{cmd}: {text or 'error'} (code {code})")


class BtminerV3Client:
    """One request per connection to port 4433, bounded in time and size.

    Salts are cached per miner (they change only with a firmware reset); a write refused for
    its token fetches the salt again and retries once.
    """

    def __init__(self, *, port: int = V3_PORT, timeout: float = 3.0, max_reply: int = MAX_FRAME):
        self.port = port
        self.timeout = timeout
        self.max_reply = max_reply
        self._salts: dict[str, str] = {}

    async def request(self, host: str, body: dict[str, Any]) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        protocol = _V3Exchange(frame(body), self.max_reply, future)
        try:
            async with asyncio.timeout(self.timeout):
                await loop.create_connection(lambda: protocol, host, self.port)
                payload = await future
        except MinerError:
            raise
        except asyncio.CancelledError:
            future.cancel()
            if protocol.transport is not None:
                protocol.transport.abort()
            raise
        except Exception as exc:
            future.cancel()
            if protocol.transport is not None:
                protocol.transport.abort()
            raise _classify(exc) from None
        return decode(payload)

    async def command(self, host: str, cmd: str, param: Any = None) -> dict[str, Any]:
        body: dict[str, Any] = {"cmd": cmd}
        if param is not None:
            body["param"] = param
        return check(await self.request(host, body), cmd)

    async def msg(self, host: str, cmd: str, param: Any = None) -> dict[str, Any]:
        """The ``msg`` object of a successful read."""
        msg = (await self.command(host, cmd, param)).get("msg")
        if not isinstance(msg, dict):
            raise MinerError(ErrorClass.MALFORMED, f"{cmd}: msg is not an object")
        return msg

    async def salt(self, host: str, *, fresh: bool = False) -> str:
        if not fresh and host in self._salts:
            return self._salts[host]
        salt = (await self.msg(host, "get.device.info", "salt")).get("salt")
        if not isinstance(salt, str) or not salt:
            raise MinerError(ErrorClass.API_ERROR, "get.device.info gave no salt")
        self._salts[host] = salt
        return salt

    async def write(self, host: str, cmd: str, param: Any, password: str) -> dict[str, Any]:
        """Send a ``set.*`` command with its token; return the reply."""
        for attempt in range(2):
            salt = await self.salt(host, fresh=attempt > 0)
            ts = int(time.time())
            body = {
                "cmd": cmd,
                "param": param,
                "ts": ts,
                "account": ACCOUNT,
                "token": token(cmd, password, salt, ts),
            }
            try:
                return check(await self.request(host, body), cmd)
            except MinerError as error:
                if error.error_class is not ErrorClass.AUTH_FAILED or attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def report(
        self, host: str, sections: tuple[str, ...]
    ) -> dict[str, dict[str, Any] | MinerError]:
        """``get.miner.status`` for each section (summary, edevs, pools), one connection each.

        Returns {section: msg or MinerError}; a miner that refuses or times out on the first
        section is not asked for the rest.
        """
        results: dict[str, dict[str, Any] | MinerError] = {}
        for section in sections:
            try:
                results[section] = await self.msg(host, "get.miner.status", section)
            except MinerError as error:
                results[section] = error
                if error.error_class in (ErrorClass.TIMEOUT, ErrorClass.REFUSED):
                    for rest in sections:
                        results.setdefault(rest, error)
                    break
        return results
