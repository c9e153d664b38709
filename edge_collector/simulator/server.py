"""Serve a simulated farm: every miner on its own loopback address, port 4028 (+ web for Antminers).

One asyncio process serves many miners. The open-file limit (20,000 here) caps a process at
roughly 7,000 miners with the web port or 15,000 without, so ``run_farm`` splits big farms
over several processes, each serving a slice of the farm file.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import resource
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from typing import Any

from edge_collector import btminer_v3, speedups
from edge_collector.digest import DigestServer
from edge_collector.simulator.farm import Farm
from edge_collector.simulator.miner import SimMiner

log = logging.getLogger("hashinsight.edge.simulator")

ANTMINER_REALM = "antMiner Configuration"
MAX_HOLD_S = 120.0  # a "timeout" fault holds the socket at most this long
MAX_HTTP_REQUEST = 64 * 1024
OVERSIZED_BYTES = 1024 * 1024


def _reset(transport: asyncio.BaseTransport) -> None:
    """Abort with a TCP RST (SO_LINGER 0), as a crashing or rebooting miner does."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


class _RpcProtocol(asyncio.Protocol):
    """cgminer reads the request with one recv(), answers, appends NUL and closes."""

    __slots__ = ("sim", "miner", "transport", "done")

    def __init__(self, sim: Simulator, miner: SimMiner) -> None:
        self.sim = sim
        self.miner = miner
        self.transport: asyncio.Transport | None = None
        self.done = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.done:
            return
        self.done = True
        transport = self.transport
        assert transport is not None
        miner = self.miner
        if not miner.is_up():
            _reset(transport)
            return
        faults = miner.spec.faults
        if faults.any():
            roll = miner.rng.random()
            for kind in ("timeout", "reset", "malformed", "truncated", "oversized", "slow"):
                chance = getattr(faults, kind)
                if roll < chance:
                    self._fault(kind, data)
                    return
                roll -= chance
        transport.write(miner.rpc(data))
        transport.close()

    def _fault(self, kind: str, data: bytes) -> None:
        transport = self.transport
        assert transport is not None
        loop = asyncio.get_running_loop()
        if kind == "timeout":
            loop.call_later(MAX_HOLD_S, transport.abort)
        elif kind == "reset":
            _reset(transport)
        elif kind == "malformed":
            junk = bytes(self.miner.rng.randrange(256) for _ in range(200)).replace(b"\0", b"?")
            transport.write(b'{"STATUS":[{"STATUS":"S",' + junk + b"\0")
            transport.close()
        elif kind == "truncated":
            reply = self.miner.rpc(data)
            transport.write(reply[: max(1, len(reply) // 2)])
            transport.close()
        elif kind == "oversized":
            transport.write(b'{"STATUS":[' + b'{"x":1},' * (OVERSIZED_BYTES // 8))
            transport.close()
        elif kind == "slow":
            reply = self.miner.rpc(data)

            def answer() -> None:
                if not transport.is_closing():
                    transport.write(reply)
                    transport.close()

            loop.call_later(self.miner.spec.faults.slow_s, answer)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


class _V3Protocol(asyncio.Protocol):
    """Whatsminer API v3: length-prefixed JSON frames; the connection may carry several."""

    IDLE_S = 10.0

    def __init__(self, sim: Simulator, miner: SimMiner) -> None:
        self.sim = sim
        self.miner = miner
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.idle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.idle = asyncio.get_running_loop().call_later(self.IDLE_S, transport.close)

    def data_received(self, data: bytes) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        self.buffer += data
        try:
            payloads, self.buffer = btminer_v3.split_frames(self.buffer, MAX_HTTP_REQUEST)
        except ValueError:
            _reset(transport)
            return
        miner = self.miner
        for payload in payloads:
            if not miner.is_up():
                _reset(transport)
                return
            faults = miner.spec.faults
            if faults.any() and self._fault(payload):
                return
            transport.write(miner.v3(payload))

    def _fault(self, payload: bytes) -> bool:
        """Maybe misbehave instead of answering; True when the connection is done."""
        transport = self.transport
        assert transport is not None
        faults = self.miner.spec.faults
        roll = self.miner.rng.random()
        for kind in ("timeout", "reset", "malformed", "truncated", "oversized", "slow"):
            chance = getattr(faults, kind)
            if roll >= chance:
                roll -= chance
                continue
            loop = asyncio.get_running_loop()
            if kind == "timeout":
                loop.call_later(MAX_HOLD_S, transport.abort)
            elif kind == "reset":
                _reset(transport)
            elif kind == "malformed":
                transport.write(btminer_v3.frame_bytes(b'{"code":0,"msg":{"summ'))
                transport.close()
            elif kind == "truncated":
                reply = self.miner.v3(payload)
                transport.write(reply[: max(1, len(reply) // 2)])
                transport.close()
            elif kind == "oversized":
                transport.write(btminer_v3.frame_bytes(b" " * OVERSIZED_BYTES))
                transport.close()
            elif kind == "slow":
                reply = self.miner.v3(payload)

                def answer(reply: bytes = reply) -> None:
                    if not transport.is_closing():
                        transport.write(reply)

                loop.call_later(faults.slow_s, answer)
            return True
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self.idle:
            self.idle.cancel()
        self.transport = None


class _HttpProtocol(asyncio.Protocol):
    """A small HTTP/1.1 server for the Antminer CGI API, behind Digest auth, with keep-alive."""

    IDLE_S = 10.0

    def __init__(self, sim: Simulator, miner: SimMiner) -> None:
        self.sim = sim
        self.miner = miner
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.idle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._arm()

    def _arm(self) -> None:
        if self.idle:
            self.idle.cancel()
        if self.transport:
            self.idle = asyncio.get_running_loop().call_later(self.IDLE_S, self.transport.close)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > MAX_HTTP_REQUEST:
            self._send(413, {"error": "request too large"}, close=True)
            return
        while self.transport and not self.transport.is_closing():
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buffer[:head_end].decode("latin-1")
            lines = head.split("\r\n")
            try:
                method, target, version = lines[0].split(" ", 2)
            except ValueError:
                self._send(400, {"error": "bad request line"}, close=True)
                return
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            try:
                length = int(headers.get("content-length", "0"))
            except ValueError:
                self._send(400, {"error": "bad content-length"}, close=True)
                return
            if length < 0 or length > MAX_HTTP_REQUEST:
                self._send(413, {"error": "request too large"}, close=True)
                return
            if len(self.buffer) < head_end + 4 + length:
                return
            body = self.buffer[head_end + 4 : head_end + 4 + length]
            self.buffer = self.buffer[head_end + 4 + length :]
            close = version == "HTTP/1.0" or headers.get("connection", "").lower() == "close"
            self._handle(method, target, headers, body, close)
            self._arm()

    def _handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes, close: bool
    ) -> None:
        miner = self.miner
        if not miner.is_up():
            if self.transport:
                _reset(self.transport)
            return
        digest = self.sim.digest
        if not digest.check(headers.get("authorization"), method):
            page = "<html><body><h1>401 Unauthorized</h1></body></html>"
            self._send(401, page, close=close, extra={"WWW-Authenticate": digest.challenge()})
            return
        path = target.split("?", 1)[0]
        status, payload = miner.web(method, path, body)
        self._send(status, payload, close=close)

    def _send(
        self,
        status: int,
        payload: dict[str, Any] | str,
        *,
        close: bool,
        extra: dict[str, str] | None = None,
    ) -> None:
        if not self.transport:
            return
        reasons = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}
        reasons[413] = "Payload Too Large"
        if isinstance(payload, str):
            body, kind = payload.encode(), "text/html"
        else:
            body, kind = json.dumps(payload, separators=(",", ":")).encode(), "application/json"
        head = [f"HTTP/1.1 {status} {reasons.get(status, 'Error')}", f"Content-Type: {kind}"]
        head.append(f"Content-Length: {len(body)}")
        head.append("Connection: close" if close else "Connection: keep-alive")
        head += [f"{name}: {value}" for name, value in (extra or {}).items()]
        self.transport.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        if close:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.idle:
            self.idle.cancel()
        self.transport = None


class Simulator:
    """Serves the miners of one farm slice from the running event loop."""

    def __init__(
        self,
        farm: Farm,
        *,
        part: tuple[int, int] = (0, 1),
        http_port: int | None = None,
        rpc_port: int | None = None,
    ) -> None:
        index, total = part
        settings = farm.settings
        self.farm = farm
        self.rpc_port = rpc_port or settings.rpc_port
        self.v3_port = settings.v3_port
        self.http_port = settings.http_port if http_port is None else http_port
        self.miners: dict[str, SimMiner] = {}
        for n, spec in enumerate(farm.miners):
            if n % total == index:
                miner = SimMiner(spec, settings, seed=settings.seed * 1_000_003 + n)
                miner.on_down = self._miner_down
                self.miners[spec.ip] = miner
        users = {settings.web_user: settings.web_password}
        self.digest = DigestServer(ANTMINER_REALM, users)
        self._servers: dict[str, list[asyncio.base_events.Server]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def listeners_needed(self) -> int:
        return sum(1 + self._serves_web(m) for m in self.miners.values())

    def _serves_web(self, miner: SimMiner) -> bool:
        return bool(miner.spec.http and miner.model.vendor == "antminer" and self.http_port)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        for miner in self.miners.values():
            if not miner.absent:
                await self._listen(miner)

    async def _listen(self, miner: SimMiner) -> None:
        loop = asyncio.get_running_loop()
        if miner.model.api_v3:
            # API v3 firmware closes 4028 and answers framed JSON on 4433 instead.
            factory, port = (lambda m=miner: _V3Protocol(self, m)), self.v3_port
        else:
            factory, port = (lambda m=miner: _RpcProtocol(self, m)), self.rpc_port
        servers = [
            await loop.create_server(
                factory, host=miner.ip, port=port, reuse_address=True, backlog=64
            )
        ]
        if self._serves_web(miner):
            servers.append(
                await loop.create_server(
                    lambda m=miner: _HttpProtocol(self, m),
                    host=miner.ip,
                    port=self.http_port,
                    reuse_address=True,
                    backlog=32,
                )
            )
        self._servers[miner.ip] = servers

    def _close(self, ip: str) -> None:
        for server in self._servers.pop(ip, []):
            server.close()

    def _miner_down(self, miner: SimMiner, down_s: float) -> None:
        """Close the miner's listeners (refused connections) and reopen them when it is back."""
        loop = self._loop
        if loop is None:
            return
        if down_s == 0.0:
            if miner.ip not in self._servers:
                loop.create_task(self._listen(miner))
            return
        self._close(miner.ip)
        if down_s > 0:

            def back() -> None:
                if not miner.absent and miner.ip not in self._servers:
                    loop.create_task(self._listen(miner))

            loop.call_later(down_s, back)

    async def stop(self) -> None:
        for ip in list(self._servers):
            self._close(ip)

    def call(self, func, *args: Any) -> None:
        """Run ``func(*args)`` on the simulator's loop (for tests driving it from outside)."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(func, *args)


class SimulatorThread:
    """Runs a Simulator on its own event loop in a daemon thread (tests, demos)."""

    def __init__(self, farm: Farm, **kwargs: Any) -> None:
        self.sim = Simulator(farm, **kwargs)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.miners = self.sim.miners

    def __enter__(self) -> SimulatorThread:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.sim.start(), self._loop).result(timeout=60)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, func, *args: Any, timeout: float = 10) -> Any:
        """Call ``func(*args)`` on the simulator's loop and return its result."""

        async def call() -> Any:
            return func(*args)

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(timeout=timeout)

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self.sim.stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()


# --- processes ----------------------------------------------------------------------------


def fd_budget() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft


def processes_needed(farm: Farm, http_port: int | None, *, headroom: float = 0.55) -> int:
    """How many processes keep each one's listeners within ``headroom`` of the fd limit.

    The rest of the budget is for accepted connections in flight and the loop's own fds.
    """
    port = farm.settings.http_port if http_port is None else http_port
    listeners = sum(1 + bool(m.http and m.model.vendor == "antminer" and port) for m in farm.miners)
    per_process = max(100, int(fd_budget() * headroom))
    return max(1, -(-listeners // per_process))


async def serve_part(farm: Farm, part: tuple[int, int], http_port: int | None, ready) -> None:
    sim = Simulator(farm, part=part, http_port=http_port)
    with contextlib.suppress(ValueError, OSError):
        # Raise the soft limit to the hard one: listeners plus connections in flight.
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    await sim.start()
    ready(len(sim.miners))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await sim.stop()


def run_farm(
    farm_path: str,
    farm: Farm,
    *,
    processes: int | None = None,
    http_port: int | None = None,
    duration_s: float | None = None,
    out=sys.stdout,
) -> int:
    """Serve the farm until interrupted (or ``duration_s``), splitting it over processes."""
    count = processes or processes_needed(farm, http_port)
    if count == 1:

        def ready(n: int) -> None:
            print(f"simulating {n} miners (1 process); Ctrl-C stops", file=out, flush=True)

        async def main() -> None:
            task = asyncio.ensure_future(serve_part(farm, (0, 1), http_port, ready))
            if duration_s:
                done, _ = await asyncio.wait({task}, timeout=duration_s)
                if not done:
                    os.kill(os.getpid(), signal.SIGTERM)
            await task

        speedups.run(main())
        return 0
    children: list[subprocess.Popen] = []

    def terminate(signum, frame) -> None:
        # Turn TERM into an exception so the finally below stops the children too.
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        for index in range(count):
            command = [sys.executable, "-m", "edge_collector.cli", "simulate", farm_path]
            command += ["--part", f"{index}/{count}"]
            if http_port is not None:
                command += ["--http-port", str(http_port)]
            # Our own interpreter and module with arguments we built: no untrusted input.
            children.append(subprocess.Popen(command, stdout=subprocess.PIPE, text=True))  # noqa: S603
        total = 0
        for child in children:
            line = child.stdout.readline() if child.stdout else ""
            if not line.startswith("ready"):
                raise RuntimeError("a simulator process failed to start")
            total += int(line.split()[1])
        print(f"simulating {total} miners ({count} processes); Ctrl-C stops", file=out, flush=True)
        deadline = time.monotonic() + duration_s if duration_s else None
        while all(child.poll() is None for child in children):
            if deadline and time.monotonic() > deadline:
                break
            time.sleep(0.2)
        return 0 if all(child.poll() in (None, 0) for child in children) else 1
    except KeyboardInterrupt:
        return 0
    finally:
        _stop_children(children)
        signal.signal(signal.SIGTERM, previous)


def _stop_children(children: Iterable[subprocess.Popen]) -> None:
    children = list(children)
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=5)


def serve_part_blocking(farm: Farm, part: tuple[int, int], http_port: int | None) -> int:
    """Entry for one child process: prints ``ready N`` once listening, runs until TERM."""

    def ready(n: int) -> None:
        print(f"ready {n}", flush=True)

    try:
        speedups.run(serve_part(farm, part, http_port, ready))
    except OSError as error:
        print(f"error {error}", flush=True)
        return 1
    return 0
