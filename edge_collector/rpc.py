"""A lean asyncio client for the CGMiner RPC API (TCP 4028).

The protocol: one request per TCP connection, no request terminator, one reply that ends with
a NUL byte, then the miner closes the socket. JSON requests get JSON replies; ``cmd|param``
text requests get ``K=V,...|`` records. Report commands can be joined with ``+`` on firmware
that allows it; stock Antminer X19 firmware does not, so callers fall back to one connection
per command and remember that per miner.

This module sits on the hot path (30,000 miners every cycle), so it uses a bare
``asyncio.Protocol`` rather than streams, and every failure becomes a ``MinerError`` with an
``ErrorClass`` instead of an exception the poller would have to know about.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import json
import re
from collections.abc import Iterable
from typing import Any

from edge_collector import speedups
from edge_collector.wire import ErrorClass

DEFAULT_PORT = 4028
DEFAULT_MAX_REPLY = 512 * 1024  # real replies are 1-20 KiB; anything near this is garbage


class MinerError(Exception):
    """A miner did not give a usable answer; ``error_class`` says why."""

    def __init__(self, error_class: ErrorClass, message: str) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.message = message

    def __repr__(self) -> str:
        return f"MinerError({self.error_class.value!r}, {self.message!r})"


class _Exchange(asyncio.Protocol):
    """Send one request, collect the reply up to the NUL byte, EOF, or the size limit."""

    __slots__ = ("request", "limit", "future", "chunks", "size", "transport", "ended_by_nul")

    def __init__(self, request: bytes, limit: int, future: asyncio.Future) -> None:
        self.request = request
        self.limit = limit
        self.future = future
        self.chunks: list[bytes] = []
        self.size = 0
        self.transport: asyncio.Transport | None = None
        self.ended_by_nul = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        if self.future.done():
            return
        nul = data.find(b"\0")
        if nul >= 0:
            data = data[:nul]
        self.chunks.append(data)
        self.size += len(data)
        if self.size > self.limit:
            self.future.set_exception(
                MinerError(ErrorClass.OVERSIZED, f"reply exceeds {self.limit} bytes")
            )
            self.transport.abort()  # type: ignore[union-attr]
        elif nul >= 0:
            self.ended_by_nul = True
            self.future.set_result(b"".join(self.chunks))
            self.transport.close()  # type: ignore[union-attr]

    def eof_received(self) -> bool:
        if not self.future.done():
            self.future.set_result(b"".join(self.chunks))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self.future.done():
            return
        if exc is None:
            self.future.set_result(b"".join(self.chunks))
        else:
            self.future.set_exception(_classify(exc))


def _classify(exc: BaseException) -> MinerError:
    if isinstance(exc, MinerError):
        return exc
    if isinstance(exc, TimeoutError):
        return MinerError(ErrorClass.TIMEOUT, "no answer in time")
    if isinstance(exc, ConnectionRefusedError):
        return MinerError(ErrorClass.REFUSED, "connection refused")
    if isinstance(exc, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return MinerError(ErrorClass.RESET, "connection reset")
    if isinstance(exc, OSError):
        if exc.errno in (errno.EMFILE, errno.ENFILE, errno.EADDRNOTAVAIL, errno.ENOBUFS):
            # The collector itself ran out of sockets: not the miner's fault.
            return MinerError(ErrorClass.LOCAL, f"local resource: {exc.strerror}")
        return MinerError(ErrorClass.UNREACHABLE, exc.strerror or str(exc))
    return MinerError(ErrorClass.LOCAL, f"{type(exc).__name__}: {exc}")


async def exchange(
    host: str,
    port: int,
    request: bytes,
    *,
    timeout: float,
    max_reply: int = DEFAULT_MAX_REPLY,
) -> tuple[bytes, bool]:
    """Send ``request`` and return (reply without the NUL, whether a NUL ended it).

    ``timeout`` bounds connect + reply together, so one hung miner costs at most that.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future = loop.create_future()
    protocol = _Exchange(request, max_reply, future)
    try:
        async with asyncio.timeout(timeout):
            await loop.create_connection(lambda: protocol, host, port)
            reply = await future
    except MinerError:
        raise
    except asyncio.CancelledError:
        future.cancel()  # so late callbacks see it done and leave no unretrieved exception
        if protocol.transport is not None:
            protocol.transport.abort()
        raise
    except Exception as exc:
        # Covers TimeoutError from asyncio.timeout and every OSError from connecting.
        future.cancel()
        if protocol.transport is not None:
            protocol.transport.abort()
        raise _classify(exc) from None
    return reply, protocol.ended_by_nul


# --- decoding -----------------------------------------------------------------------------

_BARE_NONFINITE = re.compile(r"(?<=[:\[,])\s*-?(?:inf|nan)\b", re.IGNORECASE)


def _repair(text: str) -> str:
    """Undo the JSON mistakes real firmware is known to make."""
    # Old bmminer (S9, D3) forgets the comma between STATS[0] and STATS[1]: ``}{``.
    text = text.replace("}{", "},{")
    # btminer leaves trailing commas and raw newlines; bmminer sometimes opens with ``[,{``.
    text = text.replace(",}", "}").replace("[,{", "[{").replace("\n", "")
    # Avalon prints bare inf/nan as numbers.
    text = _BARE_NONFINITE.sub("null", text)
    # Some Avalon builds drop the opening brace and start with ``,"id":1}``.
    if text.startswith(","):
        text = "{" + text[1:]
    return text


def decode_json_reply(data: bytes, *, complete: bool = True) -> dict[str, Any]:
    """Parse a JSON reply; raise MinerError(MALFORMED | TRUNCATED) when it cannot be read.

    ``complete`` says whether the reply ended with the NUL byte: a reply that did not and still
    fails to parse was most likely cut short.
    """
    if speedups.orjson is not None:
        # Fast path: most replies are valid JSON as they come.
        try:
            value = speedups.orjson.loads(data)
        except ValueError:
            value = None
        if isinstance(value, dict):
            return value
    text = data.decode("utf-8", errors="replace").strip().rstrip("\0")
    if not text:
        raise MinerError(
            ErrorClass.TRUNCATED if not complete else ErrorClass.MALFORMED, "empty reply"
        )
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        try:
            value = json.loads(_repair(text))
        except (ValueError, RecursionError):
            kind = ErrorClass.MALFORMED if complete else ErrorClass.TRUNCATED
            raise MinerError(kind, f"unreadable JSON reply ({len(data)} bytes)") from None
    if not isinstance(value, dict):
        raise MinerError(ErrorClass.MALFORMED, "reply is not a JSON object")
    return value


def _split_unescaped(text: str, sep: str) -> list[str]:
    # cgminer escapes ``|``, ``,``, ``=`` and ``\`` with a backslash in text replies.
    parts, current, escaped = [], [], False
    for char in text:
        if escaped:
            # Keep the escape: the next level of splitting (or _unescape) still needs it.
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _split_field(text: str) -> tuple[str, str | None]:
    escaped = False
    for i, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "=":
            return _unescape(text[:i]), _unescape(text[i + 1 :])
    return _unescape(text), None


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


# Text-mode records name their section by their first field; these map to the JSON names.
_TEXT_SECTION = {"POOL": "POOLS", "ASC": "DEVS", "PGA": "DEVS", "GPU": "DEVS"}


def decode_text_reply(data: bytes) -> dict[str, Any]:
    """Parse a text reply (``STATUS=S,...|SUMMARY,Elapsed=1,...|``) into the JSON shape.

    Joined text replies (``CMD=summary|...|CMD=pools|...``) come back as
    ``{"summary": [{...}], "pools": [{...}]}`` like their JSON counterparts.
    """
    text = data.decode("utf-8", errors="replace").strip().rstrip("\0")
    if not text or "=" not in text:
        raise MinerError(ErrorClass.MALFORMED, "unreadable text reply")
    records = [r for r in _split_unescaped(text, "|") if r.strip()]
    joined: dict[str, Any] = {}
    current: dict[str, Any] = {}
    current_cmd = ""
    for record in records:
        fields = _split_unescaped(record, ",")
        first_key, first_value = _split_field(fields[0])
        if first_key == "CMD" and first_value is not None:
            if current_cmd:
                joined[current_cmd] = [current]
            current_cmd, current = first_value, {}
            continue
        item: dict[str, Any] = {}
        section = first_key if first_value is None else _TEXT_SECTION.get(first_key, first_key)
        for entry in fields if first_value is not None else fields[1:]:
            key, value = _split_field(entry)
            item[key] = value if value is not None else ""
        if first_key == "STATUS":
            current.setdefault("STATUS", []).append(item)
        else:
            current.setdefault(section, []).append(item)
    if current_cmd:
        joined[current_cmd] = [current]
        return joined
    if "STATUS" not in current:
        raise MinerError(ErrorClass.MALFORMED, "text reply has no STATUS record")
    return current


def status_of(reply: dict[str, Any]) -> tuple[str, int | None, str]:
    """Return (status letter, code, message) from whatever STATUS shape the firmware used."""
    status = reply.get("STATUS")
    if isinstance(status, list) and status and isinstance(status[0], dict):
        block = status[0]
    elif isinstance(status, dict):
        block = status
    elif isinstance(status, str):
        # btminer API v2 puts STATUS/Code/Msg at the top level; restart/quit say "RESTART"/"BYE".
        block = {"STATUS": status, "Code": reply.get("Code"), "Msg": reply.get("Msg", "")}
    else:
        return "", None, ""
    letter = block.get("STATUS")
    code = block.get("Code")
    try:
        code = int(code) if code is not None else None
    except (TypeError, ValueError):
        code = None
    msg = block.get("Msg", "")
    return (
        (str(letter) if letter is not None else ""),
        code,
        (msg if isinstance(msg, str) else json.dumps(msg)[:200]),
    )


def check_status(reply: dict[str, Any], command: str) -> dict[str, Any]:
    """Raise MinerError when the reply's STATUS says error; return the reply otherwise."""
    letter, code, msg = status_of(reply)
    if letter in ("E", "F"):
        lowered = msg.lower()
        if code == 45 or "denied" in lowered or "permission" in lowered:
            raise MinerError(ErrorClass.ACCESS_DENIED, f"{command}: {msg or 'access denied'}")
        if code == 14 or "invalid command" in lowered:
            raise MinerError(ErrorClass.UNSUPPORTED, f"{command}: {msg or 'invalid command'}")
        raise MinerError(ErrorClass.API_ERROR, f"{command}: {msg or 'error'} (code {code})")
    return reply


@functools.lru_cache(maxsize=256)
def _plain_request(command: str) -> bytes:
    # The poll requests are the same few strings 30,000 times a cycle.
    return json.dumps({"command": command}, separators=(",", ":")).encode()


class CgminerClient:
    """Talks to miners' RPC port with bounded time and reply size.

    ``timeout`` bounds each connection (connect + reply). One client is shared by all polls;
    it holds no per-miner state except what callers pass in.
    """

    def __init__(
        self,
        *,
        port: int = DEFAULT_PORT,
        timeout: float = 3.0,
        max_reply: int = DEFAULT_MAX_REPLY,
    ) -> None:
        self.port = port
        self.timeout = timeout
        self.max_reply = max_reply

    async def raw(self, host: str, request: bytes, *, timeout: float | None = None) -> bytes:
        reply, _ = await exchange(
            host, self.port, request, timeout=timeout or self.timeout, max_reply=self.max_reply
        )
        return reply

    async def command(
        self,
        host: str,
        command: str,
        parameter: str | int | float | None = None,
        *,
        text: bool = False,
        check: bool = True,
        extra: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Send one command; return the parsed reply (raising MinerError on errors)."""
        if text:
            request = command if parameter is None else f"{command}|{parameter}"
            payload = request.encode()
        elif parameter is None and not extra:
            payload = _plain_request(command)
        else:
            body: dict[str, Any] = {"command": command}
            if parameter is not None:
                body["parameter"] = parameter
            if extra:
                body.update(extra)
            payload = json.dumps(body, separators=(",", ":")).encode()
        reply, complete = await exchange(
            host, self.port, payload, timeout=timeout or self.timeout, max_reply=self.max_reply
        )
        parsed = decode_text_reply(reply) if text else decode_json_reply(reply, complete=complete)
        return check_status(parsed, command) if check else parsed

    async def report(
        self, host: str, commands: Iterable[str], *, join: bool = True, text: bool = False
    ) -> tuple[dict[str, dict[str, Any] | MinerError], bool]:
        """Run several report commands; return ({command: reply or MinerError}, joined).

        With ``join`` the commands go ``+``-joined over one connection. When the firmware
        refuses the join (stock X19 bmminer answers "Invalid command"), or leaves sections
        out, the missing ones are fetched one connection each; ``joined`` tells the caller
        whether the join worked, so it can skip trying next time. Network failures of the
        joined request are not retried per command: a dead miner should cost one timeout.
        """
        names = list(dict.fromkeys(commands))
        results: dict[str, dict[str, Any] | MinerError] = {}
        joined_ok = False
        if join and len(names) > 1:
            try:
                reply = await self.command(host, "+".join(names), text=text, check=False)
            except MinerError as error:
                if error.error_class in (ErrorClass.MALFORMED, ErrorClass.OVERSIZED):
                    reply = {}
                else:
                    return dict.fromkeys(names, error), False
            letter, _, _ = status_of(reply)
            if letter not in ("E", "F"):
                for name in names:
                    section = reply.get(name)
                    if isinstance(section, list) and section and isinstance(section[0], dict):
                        section = section[0]
                    if isinstance(section, dict):
                        try:
                            results[name] = check_status(section, name)
                        except MinerError as error:
                            results[name] = error
                joined_ok = bool(results)
        for name in names:
            if name not in results:
                try:
                    results[name] = await self.command(host, name, text=text)
                except MinerError as error:
                    results[name] = error
                    if error.error_class in (ErrorClass.TIMEOUT, ErrorClass.REFUSED):
                        # The miner went away mid-poll; the rest would only add timeouts.
                        for rest in names:
                            results.setdefault(rest, error)
                        break
        return results, joined_ok
