"""Talk to the HashInsight server: gzip JSON with the device token, retries with backoff.

The server is reached over outbound HTTP(S) only. urllib (standard library) is enough: the
collector sends a handful of requests a minute, in a worker thread so the poll loop never
waits on the network.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from edge_collector import __version__
from edge_collector.spool import Batch, Spool
from edge_collector.wire import (
    HEADER_AUTHORIZATION,
    HEADER_DEVICE,
    HEADER_IDEMPOTENCY,
    STREAM_LATEST,
    STREAM_RAW,
    TELEMETRY_PATH,
    encode_gzip_json,
    telemetry_body,
    utc_now_iso,
)

log = logging.getLogger("hashinsight.edge.upload")

MAX_RESPONSE = 4 * 1024 * 1024


@dataclass(slots=True)
class Response:
    status: int  # 0 when the server could not be reached
    body: Any
    error: str = ""
    retry_after: float | None = None


class ServerClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        device_id: str,
        timeout: float = 15.0,
        ca_file: str = "",
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.token = token
        self.device_id = device_id
        self.timeout = timeout
        self._ssl = ssl.create_default_context(cafile=ca_file or None)

    def _headers(self) -> dict[str, str]:
        return {
            HEADER_AUTHORIZATION: f"Bearer {self.token}",
            HEADER_DEVICE: self.device_id,
            "User-Agent": f"hashinsight-edge/{__version__}",
            "Accept": "application/json",
        }

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        gzip_body: bool = False,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """One blocking request; never raises for network or HTTP errors."""
        url = urljoin(self.base_url, path.lstrip("/"))
        all_headers = self._headers() | (headers or {})
        data = None
        if body is not None:
            if gzip_body:
                data = encode_gzip_json(body)
                all_headers |= {"Content-Type": "application/json", "Content-Encoding": "gzip"}
            else:
                data = json.dumps(body, separators=(",", ":")).encode()
                all_headers["Content-Type"] = "application/json"
        # The URL's scheme was validated as http(s) by the config (ruff S310).
        request = urllib.request.Request(url, data=data, method=method, headers=all_headers)  # noqa: S310
        try:
            with urllib.request.urlopen(  # noqa: S310
                request, timeout=self.timeout, context=self._ssl
            ) as response:
                return Response(response.status, _json(response.read(MAX_RESPONSE)))
        except urllib.error.HTTPError as error:
            retry = error.headers.get("Retry-After") if error.headers else None
            try:
                payload = _json(error.read(MAX_RESPONSE))
            except OSError:
                payload = None
            return Response(error.code, payload, f"HTTP {error.code}", _seconds(retry))
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            return Response(0, None, f"network: {reason}")


def _json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def backoff_delay(attempt: int, initial: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with jitter: between half and all of min(cap, initial * 2^n)."""
    ceiling = min(cap, initial * 2 ** min(attempt, 30))
    return rng.uniform(ceiling / 2, ceiling)


class Uploader:
    """Drains the spool to ``POST /api/v1/edge/telemetry``, oldest first, one batch at a time."""

    def __init__(
        self,
        spool: Spool,
        client: ServerClient,
        *,
        site_id: str,
        zone_id: str,
        batch_size: int = 1000,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 300.0,
        shard: tuple[int, int] = (0, 1),
        seed: int | None = None,
    ) -> None:
        self.spool = spool
        self.client = client
        self.site_id = site_id
        self.zone_id = zone_id
        self.batch_size = {STREAM_RAW: batch_size, STREAM_LATEST: batch_size}
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.shard = shard
        self.rng = random.Random(seed)
        self.failures = 0
        self.wake = asyncio.Event()
        self.sent_batches = 0

    def _body(self, batch: Batch) -> dict[str, Any]:
        return telemetry_body(
            batch_id=batch.batch_id,
            device_id=self.client.device_id,
            site_id=self.site_id,
            zone_id=self.zone_id,
            stream=batch.stream,
            records=batch.records,
            seq_first=batch.seq_first,
            seq_last=batch.seq_last,
            dropped_total=self.spool.dropped(batch.stream),
            shard_index=self.shard[0],
            shard_total=self.shard[1],
        )

    async def send_one(self, stream: str) -> bool | None:
        """Send the stream's next batch. True: sent; None: nothing to send; False: failed."""
        batch = await asyncio.to_thread(self.spool.next_batch, stream, self.batch_size[stream])
        if batch is None:
            return None
        self.spool.attempted(batch.batch_id)
        response = await asyncio.to_thread(
            self.client.request,
            "POST",
            TELEMETRY_PATH,
            self._body(batch),
            gzip_body=True,
            headers={HEADER_IDEMPOTENCY: batch.batch_id},
        )
        status = response.status
        if 200 <= status < 300:
            await asyncio.to_thread(self.spool.confirm, batch.batch_id)
            self.failures = 0
            self.sent_batches += 1
            self.spool.set(last_upload_at=utc_now_iso(), last_upload_error="")
            self.batch_size[stream] = max(self.batch_size[stream], 1)
            return True
        if status == 413 and len(batch.records) > 1:
            # Too big for the server: give the records back and cut smaller batches.
            self.batch_size[stream] = max(1, len(batch.records) // 2)
            self.spool.reopen(batch.batch_id)
            return False
        if status in (400, 413, 422):
            # The server will never accept these records; keep the queue moving.
            log.error(
                "server rejected batch %s (%d records): HTTP %d %s",
                batch.batch_id,
                len(batch.records),
                status,
                json.dumps(response.body)[:300],
            )
            self.spool.discard(batch.batch_id, stream)
            self.spool.set(last_upload_error=f"batch rejected: HTTP {status}")
            return False
        kind = "auth" if status in (401, 403) else response.error
        self.spool.set(last_upload_error=kind)
        self.failures += 1
        raise _RetryLater(response.retry_after, kind)

    async def run(self, stop: asyncio.Event, *, idle_s: float = 1.0) -> None:
        """Upload until ``stop``; back off (with jitter) while the server is unreachable."""
        while not stop.is_set():
            try:
                sent_any = False
                for stream in (STREAM_RAW, STREAM_LATEST):
                    while not stop.is_set():
                        result = await self.send_one(stream)
                        if result is None:
                            break
                        sent_any = sent_any or bool(result)
                if not sent_any:
                    self.wake.clear()
                    await _wait_any(stop, self.wake, idle_s)
            except _RetryLater as later:
                delay = backoff_delay(
                    self.failures - 1, self.backoff_initial_s, self.backoff_max_s, self.rng
                )
                if later.retry_after is not None:
                    delay = min(self.backoff_max_s, max(delay, later.retry_after))
                log.warning("upload failed (%s); retrying in %.1f s", later.kind, delay)
                await _wait_any(stop, None, delay)

    async def drain(self, *, deadline_s: float) -> bool:
        """Try to empty the spool within ``deadline_s`` (``run --once``); True if empty."""
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            try:
                if all([await self.send_one(s) is None for s in (STREAM_RAW, STREAM_LATEST)]):
                    return True
            except _RetryLater:
                delay = backoff_delay(
                    self.failures - 1, self.backoff_initial_s, self.backoff_max_s, self.rng
                )
                await asyncio.sleep(min(delay, max(0.0, end - time.monotonic())))
        return False


class _RetryLater(Exception):
    def __init__(self, retry_after: float | None, kind: str) -> None:
        super().__init__(kind)
        self.retry_after = retry_after
        self.kind = kind


async def _wait_any(stop: asyncio.Event, other: asyncio.Event | None, timeout: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait())]
    if other is not None:
        waiters.append(asyncio.ensure_future(other.wait()))
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
