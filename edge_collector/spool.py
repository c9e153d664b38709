"""The on-disk spool: records wait here (SQLite) until the server has confirmed them.

Guarantees, and how:
- *Survives restarts and crashes*: every record is committed before upload starts (WAL mode;
  a killed process loses at most records it had not yet written).
- *Exactly once at the server*: a batch is cut once and stored with its ``batch_id``, which is
  the ``Idempotency-Key``. After a crash the same records go again under the same key, so a
  server that already took them answers "duplicate" and nothing is counted twice.
- *Oldest first, in order*: records carry a monotonic ``seq``; batches are cut in seq order and
  a stream has at most one batch open.
- *Bounded*: records older than the stream's age limit, or beyond the size limit (oldest
  first), are dropped and counted; the count goes to the server in every batch.

The spool also keeps the collector's small state: device id, miner-key salt, status figures,
and the commands already executed (for idempotency) with acknowledgements still owed.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    stream TEXT NOT NULL,
    created REAL NOT NULL,
    body TEXT NOT NULL,
    batch_id TEXT
);
CREATE INDEX IF NOT EXISTS spool_stream_open ON spool (stream, batch_id, seq);
CREATE INDEX IF NOT EXISTS spool_batch ON spool (batch_id);
CREATE TABLE IF NOT EXISTS batches (
    batch_id TEXT PRIMARY KEY,
    stream TEXT NOT NULL,
    created REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS commands (
    command_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    at REAL NOT NULL,
    ack TEXT,
    acked INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass(slots=True)
class Batch:
    batch_id: str
    stream: str
    records: list[dict[str, Any]]  # each with its "seq"
    seq_first: int
    seq_last: int
    attempts: int


class Spool:
    def __init__(
        self,
        path: str | Path,
        *,
        max_bytes: int = 512 * 1024 * 1024,
        max_age_s: dict[str, float] | None = None,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s or {}
        self._lock = threading.Lock()
        # check_same_thread=False: the collector hands big inserts to a worker thread; the
        # lock serializes every use of the one connection.
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._bytes = self._db.execute(
            "SELECT COALESCE(SUM(LENGTH(body)), 0) FROM spool"
        ).fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- meta -----------------------------------------------------------------------------

    def get(self, key: str, default: str = "") -> str:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set(self, **values: Any) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in values.items()],
            )

    def identity(self) -> tuple[str, str]:
        """(device_id, miner-key salt), created once and kept for the life of the state dir."""
        device, salt = self.get("device_id"), self.get("miner_key_salt")
        if not device or not salt:
            device, salt = device or str(uuid.uuid4()), salt or uuid.uuid4().hex
            self.set(device_id=device, miner_key_salt=salt)
        return device, salt

    def _count_drop(self, stream: str, count: int) -> None:
        if count <= 0:
            return
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) "
            "DO UPDATE SET value = CAST(CAST(value AS INTEGER) + ? AS TEXT)",
            (f"dropped:{stream}", str(count), count),
        )

    def dropped(self, stream: str) -> int:
        return int(self.get(f"dropped:{stream}", "0"))

    # --- records --------------------------------------------------------------------------

    def add(self, stream: str, records: list[dict[str, Any]], now: float | None = None) -> int:
        """Append records (one transaction); returns how many were stored."""
        now = time.time() if now is None else now
        rows = [(stream, now, json.dumps(r, separators=(",", ":"))) for r in records]
        with self._lock, self._db:
            self._db.executemany("INSERT INTO spool (stream, created, body) VALUES (?, ?, ?)", rows)
            self._bytes += sum(len(row[2]) for row in rows)
            self._prune(now)
        return len(rows)

    def _prune(self, now: float) -> None:
        for stream, age in self.max_age_s.items():
            cutoff = now - age
            stale = self._db.execute(
                "SELECT batch_id FROM batches WHERE stream = ? AND created < ?", (stream, cutoff)
            ).fetchall()
            for (batch_id,) in stale:
                self._drop_batch(batch_id, stream)
            self._drop_where("stream = ? AND created < ? AND batch_id IS NULL", (stream, cutoff))
        while self._bytes > self.max_bytes:
            # Free just enough, oldest first: walk the oldest records adding up their sizes.
            excess = self._bytes - self.max_bytes
            rows = self._db.execute(
                "SELECT seq, LENGTH(body) FROM spool WHERE batch_id IS NULL ORDER BY seq LIMIT 5000"
            ).fetchall()
            if not rows:
                break
            freed, cut = 0, rows[-1][0]
            for seq, size in rows:
                freed += size
                if freed >= excess:
                    cut = seq
                    break
            self._drop_where("batch_id IS NULL AND seq <= ?", (cut,))

    def _drop_where(self, where: str, args: tuple) -> None:
        counts = self._db.execute(
            f"SELECT stream, COUNT(*), COALESCE(SUM(LENGTH(body)), 0) FROM spool "  # noqa: S608
            f"WHERE {where} GROUP BY stream",
            args,
        ).fetchall()
        if not counts:
            return
        self._db.execute(f"DELETE FROM spool WHERE {where}", args)  # noqa: S608
        for stream, count, size in counts:
            self._count_drop(stream, count)
            self._bytes -= size

    def _drop_batch(self, batch_id: str, stream: str) -> None:
        self._drop_where("batch_id = ?", (batch_id,))
        self._db.execute("DELETE FROM batches WHERE batch_id = ?", (batch_id,))

    def next_batch(self, stream: str, max_records: int) -> Batch | None:
        """The stream's open batch (same id and records as before), or a new one, or None."""
        with self._lock, self._db:
            row = self._db.execute(
                "SELECT batch_id, attempts FROM batches WHERE stream = ? ORDER BY created LIMIT 1",
                (stream,),
            ).fetchone()
            if row is None:
                seqs = self._db.execute(
                    "SELECT seq FROM spool WHERE stream = ? AND batch_id IS NULL "
                    "ORDER BY seq LIMIT ?",
                    (stream, max_records),
                ).fetchall()
                if not seqs:
                    return None
                batch_id = str(uuid.uuid4())
                self._db.execute(
                    "INSERT INTO batches (batch_id, stream, created) VALUES (?, ?, ?)",
                    (batch_id, stream, time.time()),
                )
                self._db.execute(
                    "UPDATE spool SET batch_id = ? WHERE stream = ? AND batch_id IS NULL "
                    "AND seq BETWEEN ? AND ?",
                    (batch_id, stream, seqs[0][0], seqs[-1][0]),
                )
                row = (batch_id, 0)
            batch_id, attempts = row
            rows = self._db.execute(
                "SELECT seq, body FROM spool WHERE batch_id = ? ORDER BY seq", (batch_id,)
            ).fetchall()
            if not rows:
                self._db.execute("DELETE FROM batches WHERE batch_id = ?", (batch_id,))
                return None
        records = []
        for seq, body in rows:
            record = json.loads(body)
            record["seq"] = seq
            records.append(record)
        return Batch(batch_id, stream, records, rows[0][0], rows[-1][0], attempts)

    def attempted(self, batch_id: str) -> None:
        with self._lock, self._db:
            self._db.execute(
                "UPDATE batches SET attempts = attempts + 1 WHERE batch_id = ?", (batch_id,)
            )

    def confirm(self, batch_id: str) -> None:
        """The server has the batch: forget it."""
        with self._lock, self._db:
            size = self._db.execute(
                "SELECT COALESCE(SUM(LENGTH(body)), 0) FROM spool WHERE batch_id = ?", (batch_id,)
            ).fetchone()[0]
            self._db.execute("DELETE FROM spool WHERE batch_id = ?", (batch_id,))
            self._db.execute("DELETE FROM batches WHERE batch_id = ?", (batch_id,))
            self._bytes -= size

    def discard(self, batch_id: str, stream: str) -> None:
        """The server will never take this batch (e.g. 400): drop it, counted."""
        with self._lock, self._db:
            self._drop_batch(batch_id, stream)

    def reopen(self, batch_id: str) -> None:
        """Give the batch's records back to the queue (to be re-cut smaller after a 413)."""
        with self._lock, self._db:
            self._db.execute("UPDATE spool SET batch_id = NULL WHERE batch_id = ?", (batch_id,))
            self._db.execute("DELETE FROM batches WHERE batch_id = ?", (batch_id,))

    def depth(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT stream, COUNT(*) FROM spool GROUP BY stream").fetchall()
        return dict(rows)

    def size_bytes(self) -> int:
        return self._bytes

    # --- executed commands ----------------------------------------------------------------

    def command_status(self, command_id: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT status FROM commands WHERE command_id = ?", (command_id,)
            ).fetchone()
        return row[0] if row else None

    def claim_command(self, command_id: str) -> bool:
        """Mark a command as started; False if this id was seen before (idempotency)."""
        with self._lock, self._db:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO commands (command_id, status, at) VALUES (?, 'running', ?)",
                (command_id, time.time()),
            )
            return cursor.rowcount == 1

    def finish_command(self, command_id: str, status: str, ack: dict[str, Any]) -> None:
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO commands (command_id, status, at, ack, acked) VALUES (?, ?, ?, ?, 0) "
                "ON CONFLICT (command_id) DO UPDATE SET status = excluded.status, "
                "at = excluded.at, ack = excluded.ack, acked = 0",
                (command_id, status, time.time(), json.dumps(ack)),
            )

    def pending_acks(self) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT command_id, ack FROM commands WHERE acked = 0 AND ack IS NOT NULL "
                "ORDER BY at"
            ).fetchall()
        return [(command_id, json.loads(ack)) for command_id, ack in rows]

    def mark_acked(self, command_id: str) -> None:
        with self._lock, self._db:
            self._db.execute("UPDATE commands SET acked = 1 WHERE command_id = ?", (command_id,))
