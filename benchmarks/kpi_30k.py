"""KPI report on 30,000 miners, from the KPI daily rollup vs straight from the 5-minute rows:
how long ``report.build`` takes over 24 hours, 7 and 30 days, and what the rollup job costs.

    .venv/bin/python benchmarks/kpi_30k.py --days 7 --periods 24h,7d --backends postgresql
    .venv/bin/python benchmarks/kpi_30k.py --miners 3000 --days 30 --backends sqlite

Each backend gets a fresh database built by the real migrations (SQLite: a temporary file;
PostgreSQL: 127.0.0.1:5432, database ``test``, a schema of its own dropped at the end), seeded
with ``--miners`` miners over 2 sites, 8 zones, 50 customers and 3 models, ``--days`` days of
5-minute rows per miner up to ``--now`` (2026-12-01 14:00 UTC; one interval in 20 down, INSERT …
SELECT in the database, one statement per day) and three excused events (a site
curtailment, a zone maintenance, a customer pause of 10 miners). The 5-minute watermark is set
to now; the KPI rollup job then rolls every day (timed: the first full run, then one steady
run = today's running day + the late-data check). Reports end at now, so "last 24 hours"
reads the smaller side of its partial first day from the 5-minute rows, the rest from the rollup.
Prints one line per report and one JSON line at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from hashinsight_core import migrate  # noqa: E402
from hashinsight_core.db import make_engine  # noqa: E402
from hashinsight_core.scoping import Scope, install  # noqa: E402

PG_URL = os.environ.get(
    "HASHINSIGHT_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)
PLUGINS = ["calculator", "crm", "hosting", "controlplane", "curtailment", "treasury"]
NOW = dt.datetime(2026, 12, 1, 14, 0)  # --now
END = NOW


def seed(engine, count: int, hours: int) -> dict:
    start = END - dt.timedelta(hours=hours)
    added = "2026-11-01 00:00:00"
    pg = engine.dialect.name == "postgresql"
    began = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO core_customers (name, status, created_at, updated_at) "
                "VALUES (:name, 'active', :now, :now)"
            ),
            [{"name": f"Customer {i:02d}", "now": added} for i in range(50)],
        )
        customers = [r[0] for r in conn.execute(sa.text("SELECT id FROM core_customers"))]
        conn.execute(
            sa.text(
                "INSERT INTO hosting_sites (name, timezone, capacity_kw, credential_mode, "
                "tariff_currency, created_at, updated_at) "
                "VALUES (:name, 'UTC', 50000, 'masked', 'USD', :now, :now)"
            ),
            [{"name": n, "now": added} for n in ("Texas 1", "Quebec 2")],
        )
        sites = [r[0] for r in conn.execute(sa.text("SELECT id FROM hosting_sites ORDER BY id"))]
        zones = []
        for site in sites:
            for z in range(4):
                zones.append(
                    (
                        site,
                        conn.execute(
                            sa.text(
                                "INSERT INTO hosting_zones (site_id, name, capacity_kw, "
                                "created_at, updated_at) VALUES (:s, :n, 10000, :now, :now) "
                                "RETURNING id"
                            ),
                            {"s": site, "n": f"Hall {z}", "now": added},
                        ).scalar_one(),
                    )
                )
        models = [("Antminer S19", 95.0, 3250.0), ("Antminer S21", 200.0, 3500.0)]
        models.append(("Whatsminer M30S+", 100.0, 3400.0))
        conn.execute(
            sa.text(
                "INSERT INTO hosting_miners (serial, model_name, nominal_ths, nominal_w, "
                "firmware, customer_id, site_id, zone_id, pool_url, pool_worker, status, "
                "status_changed_at, created_at, updated_at) VALUES (:serial, :model, :ths, :w, "
                "'', :customer, :site, :zone, '', '', 'online', :now, :now, :now)"
            ),
            [
                {
                    "serial": f"BENCH{n:06d}",
                    "model": models[n % 3][0],
                    "ths": models[n % 3][1],
                    "w": models[n % 3][2],
                    "customer": customers[n % 50],
                    "site": zones[n % 8][0],
                    "zone": zones[n % 8][1],
                    "now": added,
                }
                for n in range(count)
            ],
        )
        if pg:
            from plugins.hosting.telemetry import partitions

            partitions.ensure(conn, partitions.FIVE_MIN, start, END)
            buckets = (
                "SELECT generate_series(CAST(:start AS timestamp), "
                "CAST(:end AS timestamp) - INTERVAL '5 minutes', INTERVAL '5 minutes') AS bucket"
            )
            index = "CAST(EXTRACT(EPOCH FROM b.bucket) / 300 AS bigint)"
        else:
            buckets = (
                "WITH RECURSIVE s(bucket) AS (SELECT :start UNION ALL "
                "SELECT strftime('%Y-%m-%d %H:%M:%S.000000', s.bucket, '+5 minutes') FROM s "
                "WHERE s.bucket < strftime('%Y-%m-%d %H:%M:%S.000000', :end, '-5 minutes')) "
                "SELECT bucket FROM s"
            )
            index = "CAST(strftime('%s', b.bucket) AS integer) / 300"
        down = f"(m.id + {index}) % 20 = 0"
        # Built from the constants above; the values are bound.
        insert = (
            "INSERT INTO hosting_telemetry_5min (miner_id, bucket, site_id, zone_id, "  # noqa: S608
            "customer_id, samples, online_samples, hashing_samples, hashrate_avg_ths, "
            "hashrate_max_ths, nominal_ths, power_avg_w, power_samples, energy_kwh, "
            "temp_samples, error_samples) "
            "SELECT m.id, b.bucket, m.site_id, m.zone_id, m.customer_id, 10, "
            f"CASE WHEN {down} THEN 0 ELSE 10 END, CASE WHEN {down} THEN 0 ELSE 10 END, "
            f"CASE WHEN {down} THEN 0 ELSE m.nominal_ths * 0.95 END, m.nominal_ths, "
            "m.nominal_ths, m.nominal_w, 10, m.nominal_w * 5 / 60000.0, 0, 0 "
            f"FROM hosting_miners m CROSS JOIN ({buckets}) b"
        )
        # One statement per day: bounded memory, and progress on a long seed.
        chunk = start
        while chunk < END:
            upto = min(END, chunk + dt.timedelta(days=1))
            conn.execute(
                sa.text(insert),
                {
                    "start": chunk.strftime("%Y-%m-%d %H:%M:%S.000000"),
                    "end": upto.strftime("%Y-%m-%d %H:%M:%S.000000"),
                },
            )
            print(f"  seeded up to {upto:%Y-%m-%d %H:%M}", flush=True)
            chunk = upto
        rows = conn.execute(sa.text("SELECT count(*) FROM hosting_telemetry_5min")).scalar()
        noon = END - dt.timedelta(hours=12)
        event = sa.text(
            "INSERT INTO hosting_excused_events (kind, site_id, zone_id, customer_id, "
            "starts_at, ends_at, note, created_at, updated_at) VALUES (:kind, :site, :zone, "
            ":customer, :starts, :ends, '', :now, :now) RETURNING id"
        )
        conn.execute(
            event,
            {"kind": "curtailment", "site": sites[0], "zone": None, "customer": None,
             "starts": noon, "ends": noon + dt.timedelta(hours=2), "now": added},
        )  # fmt: skip
        conn.execute(
            event,
            {"kind": "maintenance", "site": sites[1], "zone": zones[5][1], "customer": None,
             "starts": noon, "ends": noon + dt.timedelta(hours=4), "now": added},
        )  # fmt: skip
        pause = conn.execute(
            event,
            {"kind": "customer_pause", "site": sites[0], "zone": None, "customer": customers[0],
             "starts": noon - dt.timedelta(hours=6), "ends": None, "now": added},
        ).scalar_one()  # fmt: skip
        ids = conn.execute(
            sa.text(
                "SELECT id FROM hosting_miners WHERE customer_id = :c AND site_id = :s "
                "ORDER BY id LIMIT 10"
            ),
            {"c": customers[0], "s": sites[0]},
        ).scalars()
        conn.execute(
            sa.text(
                "INSERT INTO hosting_excused_event_miners (event_id, miner_id) VALUES (:e, :m)"
            ),
            [{"e": pause, "m": m} for m in ids],
        )
    return {"rows": rows, "seed_s": time.perf_counter() - began, "customer": customers[0]}


def roll(engine) -> dict:
    """The KPI rollup job until it has caught up (first run), then one steady run."""
    from plugins.hosting.kpi.rollup import rollup_kpi
    from plugins.hosting.telemetry.config import TelemetryConfig

    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO hosting_telemetry_watermarks (name, value) VALUES ('5min', :v)"),
            {"v": NOW},
        )
    factory = sa.orm.sessionmaker(bind=engine)
    config = TelemetryConfig(rollup_max_days=400)
    began = time.perf_counter()
    with factory() as session:
        first = rollup_kpi(session, now=NOW + dt.timedelta(minutes=3), config=config)
        session.commit()
    first_s = time.perf_counter() - began
    began = time.perf_counter()
    with factory() as session:
        rollup_kpi(session, now=NOW + dt.timedelta(minutes=13), config=config)
        session.commit()
    steady_s = time.perf_counter() - began
    print(f"  rollup: first run {first_s:.1f} s ({first.as_dict()}), steady run {steady_s:.1f} s")
    return {
        "first_run_s": round(first_s, 1),
        "days": first.end and (first.end - first.start).days,
        "rows": first.rows,
        "steady_run_s": round(steady_s, 1),
    }


def timed(factory, scope, period, group_by, runs: int, rollup: bool):
    from plugins.hosting.kpi import engine as kpi_engine
    from plugins.hosting.kpi import report
    from plugins.hosting.telemetry.config import TelemetryConfig

    original = kpi_engine.compute

    def compute(db, period, group_by, filters=None, *, rollup_=rollup):
        return original(db, period, group_by, filters, rollup=rollup_)

    kpi_engine.compute = compute  # report.build calls engine.compute
    try:
        times = []
        for _ in range(runs):
            with factory() as session:
                session.info["scope"] = scope
                query = report.Query(period, group_by, report.Filters())
                began = time.perf_counter()
                data = report.build(session, query, now=NOW, config=TelemetryConfig(), scope=scope)
                times.append(time.perf_counter() - began)
    finally:
        kpi_engine.compute = original
    return statistics.median(times), data


def run_backend(url: str, count: int, days: int, periods, runs: int, direct_runs: int) -> dict:
    from plugins.hosting.kpi.period import PRESETS, Period

    migrate.upgrade(url, PLUGINS)
    engine = make_engine(url)
    seeded = seed(engine, count, days * 24)
    print(f"  seeded {seeded['rows']:,} rows in {seeded['seed_s']:.0f} s", flush=True)
    rolled = roll(engine)
    install()
    factory = sa.orm.sessionmaker(bind=engine)
    results = {}
    cases = [("site", Scope()), ("site", Scope(customer_id=seeded["customer"]))]
    for preset in periods:
        period = Period(NOW - PRESETS[preset], NOW, preset)
        for group_by, scope in cases:
            name = f"{preset} {group_by}{'' if scope.unlimited else ' (one customer)'}"
            fast, data = timed(factory, scope, period, group_by, runs, rollup=True)
            slow, direct = timed(factory, scope, period, group_by, direct_runs, rollup=False)
            assert data["total"]["expected_intervals"] == direct["total"]["expected_intervals"]
            for key in ("reachable_intervals", "hashing_intervals"):
                assert data["total"][key] == direct["total"][key], (name, key)
            results[name] = {
                "rollup_s": round(fast, 3),
                "direct_s": round(slow, 3),
                "ratio": round(slow / fast, 1),
                "miners": data["total"]["miners"],
                "reachable_uptime": round(data["total"]["reachable_uptime"], 4),
                "reachable_uptime_excl": round(data["total"]["reachable_uptime_excl"], 4),
            }
            print(f"  {name:28} {results[name]}", flush=True)
    engine.dispose()
    return {
        "rows": seeded["rows"],
        "seed_s": round(seeded["seed_s"], 1),
        "rollup": rolled,
        "reports": results,
    }


def main() -> None:
    global NOW, END  # noqa: PLW0603 (the script's one clock)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--miners", type=int, default=30_000)
    parser.add_argument("--days", type=int, default=7, help="days of 5-minute history")
    parser.add_argument("--periods", default="24h,7d", help="of 24h, 7d, 30d")
    parser.add_argument("--runs", type=int, default=3, help="runs per report from the rollup")
    parser.add_argument("--direct-runs", type=int, default=1, help="from the 5-minute rows")
    parser.add_argument("--backends", default="postgresql")
    parser.add_argument("--now", default=NOW.isoformat(), help="end of the history (UTC)")
    args = parser.parse_args()
    NOW = END = dt.datetime.fromisoformat(args.now)
    periods = [p for p in args.periods.split(",") if p]
    out: dict = {"miners": args.miners, "days": args.days, "now": NOW.isoformat()}
    params = (args.miners, args.days, periods, args.runs, args.direct_runs)
    for backend in args.backends.split(","):
        print(backend)
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                url = f"sqlite:///{Path(folder) / 'kpi.sqlite'}"
                out["sqlite"] = run_backend(url, *params)
        elif backend == "postgresql":
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            admin = sa.create_engine(PG_URL)
            with admin.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            try:
                url = f"{PG_URL}?options=-csearch_path%3D{schema}"
                out["postgresql"] = run_backend(url, *params)
            finally:
                with admin.begin() as conn:
                    conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
