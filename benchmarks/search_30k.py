"""Quick search on 30,000 miners: typical queries on SQLite (FTS5 trigram) and PostgreSQL
(pg_trgm GIN), against a plain ``LIKE '%q%'`` scan over the same columns in the same run.

    .venv/bin/python benchmarks/search_30k.py                      # both backends
    .venv/bin/python benchmarks/search_30k.py --miners 5000 --backends sqlite --runs 10

Each backend gets a fresh database built by the real migrations (SQLite: a temporary file;
PostgreSQL: 127.0.0.1:5432, database ``test``, a schema of its own dropped at the end), seeded
with ``--miners`` miners over 2 sites, 8 zones and racks of 10 x 10, 50 customers, IPs and pool
workers. Every query runs ``plugins.hosting.search.miners.search`` (the SQL the API runs) with
a small stand-in request, as an unlimited account and as one customer (its scope added by the
same session hook as in the app), ``--runs`` times after 3 warm-ups; the baseline is

    SELECT id FROM hosting_miners WHERE lower(serial) LIKE '%q%' OR … (4 columns)
    ORDER BY serial LIMIT 6

Prints one table per backend, then one JSON line: ``{"miners": …, "sqlite": {query: {"median_ms",
"p95_ms", "customer_median_ms", "like_median_ms"}}, "postgresql": {…}}``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import string
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from hashinsight_core import migrate  # noqa: E402
from hashinsight_core.db import make_engine  # noqa: E402
from hashinsight_core.scoping import Scope, install  # noqa: E402

PG_URL = os.environ.get(
    "HASHINSIGHT_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)
PLUGINS = ["calculator", "crm", "hosting", "controlplane", "curtailment", "treasury"]
MODELS = ["Antminer S19", "Antminer S19j Pro", "Antminer S21", "Whatsminer M30S+", "Avalon 1246"]


def seed(engine, count: int, rng: random.Random) -> dict:
    """Sites, zones, racks, customers and ``count`` miners; returns sample values to search."""
    now = "2026-12-01 00:00:00"
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO core_customers (name, status, created_at, updated_at) "
                "VALUES (:name, 'active', :now, :now)"
            ),
            [{"name": f"Customer {i:02d}", "now": now} for i in range(50)],
        )
        customers = [r[0] for r in conn.execute(sa.text("SELECT id FROM core_customers"))]
        conn.execute(
            sa.text(
                "INSERT INTO hosting_sites (name, timezone, capacity_kw, credential_mode, "
                "tariff_currency, created_at, updated_at) VALUES (:name, 'UTC', 50000, :mode, "
                "'USD', :now, :now)"
            ),
            [{"name": "Texas 1", "mode": "masked", "now": now}]
            + [{"name": "Quebec 2", "mode": "encrypted", "now": now}],
        )
        sites = [r[0] for r in conn.execute(sa.text("SELECT id FROM hosting_sites ORDER BY id"))]
        zones = []
        for site in sites:
            for z in range(4):
                zone = conn.execute(
                    sa.text(
                        "INSERT INTO hosting_zones (site_id, name, capacity_kw, created_at, "
                        "updated_at) VALUES (:s, :n, 10000, :now, :now) RETURNING id"
                    ),
                    {"s": site, "n": f"Hall {z + 1}", "now": now},
                ).scalar()
                zones.append((site, zone))
        per_rack = 100
        racks = []
        for r in range((count + per_rack - 1) // per_rack):
            site, zone = zones[r % len(zones)]
            rack = conn.execute(
                sa.text(
                    "INSERT INTO hosting_racks (site_id, zone_id, name, rows, slots, created_at, "
                    "updated_at) VALUES (:s, :z, :n, 10, 10, :now, :now) RETURNING id"
                ),
                {"s": site, "z": zone, "n": f"R{r + 1}", "now": now},
            ).scalar()
            racks.append((site, zone, rack, f"R{r + 1}"))
        rows = []
        alphabet = string.ascii_uppercase + string.digits
        for i in range(count):
            site, zone, rack, _name = racks[i // per_rack]
            customer = customers[i % len(customers)]
            slot = i % per_rack
            rows.append(
                {
                    "serial": "".join(rng.choice(alphabet) for _ in range(14)),
                    "mac": ":".join(f"{rng.randrange(256):02x}" for _ in range(6)),
                    "model_name": MODELS[i % len(MODELS)],
                    "firmware": "",
                    "customer_id": customer,
                    "site_id": site,
                    "zone_id": zone,
                    "rack_id": rack,
                    "rack_row": slot // 10 + 1,
                    "rack_slot": slot % 10 + 1,
                    "pool_url": "stratum+tcp://pool.example:3333",
                    "pool_worker": f"cust{customer:02d}.{i:05d}",
                    "ip": f"10.{site}.{(i // 250) % 250}.{i % 250 + 1}",
                    "status": "online",
                    "status_changed_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        started = time.perf_counter()
        table = sa.table("hosting_miners", *(sa.column(k) for k in rows[0]))
        for start in range(0, len(rows), 5000):
            conn.execute(table.insert(), rows[start : start + 5000])
        insert_s = time.perf_counter() - started
    # The steady state autovacuum keeps: statistics, and (PostgreSQL) the GIN indexes' pending
    # lists merged. Right after a bulk insert of 30,000 rows the pending list makes the planner
    # cost the trigram indexes above a sequential scan.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("VACUUM ANALYZE hosting_miners"))
        else:
            conn.execute(sa.text("ANALYZE"))
    sample = rows[count // 2]
    # The IP is searchable only at a site whose credentials are masked (the first one).
    masked = next(r for r in rows[count // 2 :] + rows if r["site_id"] == sites[0])
    return {
        "insert_s": insert_s,
        "customer": sample["customer_id"],
        "serial": sample["serial"],
        "mac": sample["mac"],
        "worker": sample["pool_worker"],
        "ip": masked["ip"],
        "position": "/".join(
            (racks[count // 2 // per_rack][3], str(sample["rack_row"]), str(sample["rack_slot"]))
        ),
    }


class Request(SimpleNamespace):
    """Just what the miner search uses of a Pyramid request."""

    def has_permission(self, _permission):
        return True

    def route_path(self, name, **kw):
        return f"/{name}/{kw.get('miner_id', '')}"


def requester(session):
    return Request(
        dbsession=session,
        localizer=SimpleNamespace(translate=lambda s: str(s)),
        registry={"enabled_plugins": ()},
    )


def timed(fn, runs: int) -> list[float]:
    for _ in range(3):
        fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


BASELINE = sa.text(
    "SELECT id FROM hosting_miners WHERE lower(serial) LIKE :p OR lower(mac) LIKE :p "
    "OR lower(pool_worker) LIKE :p OR lower(model_name) LIKE :p ORDER BY serial LIMIT 6"
)


def run_backend(url: str, count: int, runs: int, seed_value: int) -> dict:
    from plugins.hosting.search import miners

    migrate.upgrade(url, PLUGINS)
    engine = make_engine(url)
    values = seed(engine, count, random.Random(seed_value))
    install()
    queries = {
        "serial_exact": values["serial"],
        "serial_prefix": values["serial"][:6],
        "serial_inside": values["serial"][4:9],
        "mac_exact": values["mac"],
        "mac_compact": values["mac"].replace(":", "").upper(),
        "worker_exact": values["worker"],
        "worker_inside": values["worker"].split(".")[1],
        "position": values["position"],
        "ip_exact": values["ip"],
        "model_word": "s19j",
        "two_chars": values["serial"][:2],
        "no_match": "QQQQQQZZZ",
    }
    results = {}
    factory = sa.orm.sessionmaker(bind=engine)
    for name, q in queries.items():
        with factory() as session:
            request = requester(session)
            everyone = timed(lambda: miners.search(request, q, 5), runs)  # noqa: B023
            found = len(miners.search(request, q, 5).hits)
        with factory() as session:
            session.info["scope"] = Scope(customer_id=values["customer"])
            request = requester(session)
            own = timed(lambda: miners.search(request, q, 5), runs)  # noqa: B023
        pattern = "%" + q.lower().replace("%", "").replace("_", "") + "%"
        with engine.connect() as conn:
            like = timed(lambda: conn.execute(BASELINE, {"p": pattern}).all(), runs)  # noqa: B023
        results[name] = {
            "query": q,
            "hits": found,
            "median_ms": round(statistics.median(everyone), 2),
            "p95_ms": round(p95(everyone), 2),
            "customer_median_ms": round(statistics.median(own), 2),
            "like_median_ms": round(statistics.median(like), 2),
        }
    engine.dispose()
    return {"insert_s": round(values["insert_s"], 2), "queries": results}


def print_table(backend: str, result: dict) -> None:
    print(f"\n{backend}: {result['insert_s']} s to insert the miners (index kept in sync)")
    print(f"{'query':15} {'q':22} {'hits':>4} {'median':>8} {'p95':>8} {'customer':>9} {'LIKE':>8}")
    for name, r in result["queries"].items():
        print(
            f"{name:15} {r['query'][:22]:22} {r['hits']:>4} {r['median_ms']:>8} {r['p95_ms']:>8} "
            f"{r['customer_median_ms']:>9} {r['like_median_ms']:>8}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--miners", type=int, default=30_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    out: dict = {"miners": args.miners, "runs": args.runs}
    import sqlite3

    out["sqlite_version"] = sqlite3.sqlite_version
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                url = f"sqlite:///{Path(folder) / 'search.sqlite'}"
                out["sqlite"] = run_backend(url, args.miners, args.runs, args.seed)
        elif backend == "postgresql":
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            admin = sa.create_engine(PG_URL)
            with admin.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            try:
                url = f"{PG_URL}?options=-csearch_path%3D{schema}"
                out["postgresql"] = run_backend(url, args.miners, args.runs, args.seed)
            finally:
                with admin.begin() as conn:
                    conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
        print_table(backend, out[backend])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
