"""Audit chain benchmark: append rate through the service, verify rate for a million events,
and the raw hashlib SHA-256 rate on the very same canonical bytes, in one run.

    .venv/bin/python benchmarks/audit_chain.py [--events 1000000] [--appends 2000]
                                               [--backends sqlite,postgresql] [--pg-url URL]

SQLite goes to a temporary folder; PostgreSQL (default 127.0.0.1:5432, database ``test``,
user ``postgres``) gets a fresh schema that is dropped at the end. The last line is JSON:
``verify_1m_s`` and ``verify_events_per_s`` are the slower backend's, ``append_events_per_s``
too (so the headline never flatters); per-backend figures follow in the same object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hashinsight_core import migrate  # noqa: E402
from hashinsight_core.audit import chain, service  # noqa: E402
from hashinsight_core.audit.keys import AuditKeys  # noqa: E402
from hashinsight_core.db import make_engine  # noqa: E402

PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
CHUNK = 20_000
T0 = dt.datetime(2026, 1, 1)
AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15",
]


def payload(seq: int) -> dict:
    # A login-like event: about 300 canonical bytes in all, as the issue assumes.
    return {
        "email": f"operator{seq % 500}@farm.example.com",
        "ip": f"10.{seq % 200}.{seq % 250}.{seq % 97}",
        "method": "password+totp",
        "user_agent": AGENTS[seq % 2],
    }


def generate(count: int):
    """Yield (rows, canonical bytes) chunks of a valid chain of ``count`` events."""
    prev = chain.GENESIS_HASH
    rows: list[dict] = []
    blobs: list[bytes] = []
    for seq in range(1, count + 1):
        event = chain.make_event(
            seq,
            prev,
            T0 + dt.timedelta(seconds=seq * 3, microseconds=seq % 1_000_000),
            "core:user:login",
            ("user", seq % 500),
            ("user", seq % 500),
            payload(seq),
        )
        prev = event.hash
        rows.append({name: getattr(event, name) for name in chain.Event.__slots__})
        blobs.append(
            chain.canonical_bytes(
                seq,
                event.prev_hash,
                chain.format_time(event.occurred_at),
                event.actor_type,
                event.actor_id,
                event.tag,
                event.subject_type,
                event.subject_id,
                event.payload,
            )
        )
        if len(rows) == CHUNK:
            yield rows, blobs
            rows, blobs = [], []
    if rows:
        yield rows, blobs


def in_memory_seconds(rows: list[dict]) -> float:
    """chain.verify_rows on rows already in memory: serialization + hashing, no database."""
    first = rows[0]
    tuples = [
        (
            r["seq"],
            r["prev_hash"],
            chain.format_time(r["occurred_at"]),
            r["actor_type"],
            r["actor_id"],
            r["tag"],
            r["subject_type"],
            r["subject_id"],
            r["payload"],
            r["hash"],
        )
        for r in rows
    ]
    started = time.perf_counter()
    outcome = chain.verify_rows(tuples, after=(first["seq"] - 1, first["prev_hash"]))
    elapsed = time.perf_counter() - started
    assert outcome.ok, outcome.problem
    return elapsed


def hashlib_seconds(blobs: list[bytes]) -> float:
    sha256 = hashlib.sha256
    started = time.perf_counter()
    for blob in blobs:
        sha256(blob).hexdigest()
    return time.perf_counter() - started


class Backend:
    def __init__(self, name: str, url: str, cleanup=None):
        self.name, self.url, self.cleanup = name, url, cleanup
        migrate.upgrade(url, [])
        self.engine = make_engine(url)


def open_backends(names: list[str], pg_url: str, folder: Path) -> list[Backend]:
    backends = []
    if "sqlite" in names:
        backends.append(Backend("sqlite", f"sqlite:///{folder / 'audit-bench.sqlite'}"))
    if "postgresql" in names:
        schema = f"bench_audit_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(pg_url)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

        def drop():
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

        backends.append(
            Backend("postgresql", f"{pg_url}?options=-csearch_path%3D{schema}", cleanup=drop)
        )
    return backends


def measure_appends(backend: Backend, count: int) -> float:
    """Events/s, one event per transaction (one audited change per request) via the service."""
    factory = sa.orm.sessionmaker(bind=backend.engine)
    started = time.perf_counter()
    for i in range(count):
        with factory() as session, session.begin():
            service.append(
                session,
                "core:user:login",
                actor=("user", i % 500),
                subject=("user", i % 500),
                payload=payload(i),
            )
    return count / (time.perf_counter() - started)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--appends", type=int, default=2_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=PG_URL)
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.backends.split(",") if n.strip()]

    key = chain.generate_private_key()
    keys = AuditKeys(
        origin="bench.local/audit",
        private_key=key,
        source="benchmark",
        trusted=(chain.public_key_bytes(key),),
    )
    results: dict = {"events": args.events}
    with tempfile.TemporaryDirectory() as scratch:
        backends = open_backends(names, args.pg_url, Path(scratch))
        try:
            print(f"building a chain of {args.events:,} events ...", flush=True)
            hashing = in_memory = 0.0
            size = 0
            started = time.perf_counter()
            for rows, blobs in generate(args.events):
                hashing += hashlib_seconds(blobs)
                in_memory += in_memory_seconds(rows)
                size += sum(len(b) for b in blobs)
                for backend in backends:
                    with backend.engine.begin() as conn:
                        conn.execute(service.events.insert(), rows)
            last = rows[-1]
            for backend in backends:
                with backend.engine.begin() as conn:
                    conn.execute(service.head.update().values(seq=last["seq"], hash=last["hash"]))
                    service.make_checkpoint(conn, keys)  # verifies once more, then signs
            print(f"  built and stored in {time.perf_counter() - started:.1f} s", flush=True)
            results["bytes_per_event"] = round(size / args.events, 1)
            results["hashlib_events_per_s"] = round(args.events / hashing)
            results["serialize_and_hash_events_per_s"] = round(args.events / in_memory)
            print(
                f"hashlib sha256 on the canonical bytes ({size / args.events:.0f} B/event): "
                f"{args.events / hashing:,.0f} events/s; canonical bytes built from the "
                f"columns and hashed (verify without the database): "
                f"{args.events / in_memory:,.0f} events/s",
                flush=True,
            )

            for backend in backends:
                with backend.engine.connect() as conn:
                    started = time.perf_counter()
                    count = sum(1 for _ in service.stream_events(conn))
                    fetch = time.perf_counter() - started
                with backend.engine.connect() as conn:
                    started = time.perf_counter()
                    outcome = service.verify(conn, keys)
                    seconds = time.perf_counter() - started
                assert outcome.ok and outcome.events == args.events == count, outcome.problem
                assert outcome.checkpoint is not None and outcome.checkpoint.size == args.events
                per_million = seconds * 1_000_000 / args.events
                rate = args.events / seconds
                appended = measure_appends(backend, args.appends)
                with backend.engine.connect() as conn:
                    assert service.verify(conn, keys).ok
                results[backend.name] = {
                    "verify_s": round(seconds, 2),
                    "verify_1m_s": round(per_million, 2),
                    "verify_events_per_s": round(rate),
                    "read_only_s": round(fetch, 2),
                    "append_events_per_s": round(appended),
                }
                print(
                    f"{backend.name}: verify {args.events:,} events in {seconds:.2f} s "
                    f"({rate:,.0f} events/s; reading alone {fetch:.2f} s); "
                    f"append {appended:,.0f} events/s (one per transaction)",
                    flush=True,
                )
        finally:
            for backend in backends:
                backend.engine.dispose()
                if backend.cleanup:
                    backend.cleanup()

    measured = [results[b] for b in names if b in results]
    slowest = max(measured, key=lambda r: r["verify_1m_s"])
    results["verify_1m_s"] = slowest["verify_1m_s"]
    results["verify_events_per_s"] = slowest["verify_events_per_s"]
    results["append_events_per_s"] = min(r["append_events_per_s"] for r in measured)
    results["goal_verify_1m_under_10s"] = slowest["verify_1m_s"] < 10
    print(json.dumps(results, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
