"""Telemetry ingest benchmark on PostgreSQL: records/s end to end through the HTTP receiver
under gunicorn, next to a raw COPY of the same rows, store() alone, and the rollups of a
30,000-miner farm, in one run.

    .venv/bin/python benchmarks/ingest.py [--miners 30000] [--polls 10] [--skip-daily]
        [--pg-url URL] [--redis-url URL] [--http-workers N] [--http-worker-class sync|gthread]
        [--http-threads N] [--http-clients N] [--http-repeat N] [--http-plugins "..."]
        [--skip-http | --only-http]

PostgreSQL (default 127.0.0.1:5432, database ``test``, user ``postgres``) gets a fresh schema
migrated with every shipped plugin's revisions, dropped at the end. Measured:

- **copy**: the bucket's rows (``--miners`` x ``--polls`` polls in one 5-minute bucket) COPYed
  into a plain table shaped and indexed like raw (primary key only, as raw has), text prepared
  beforehand: the database's own bulk-load speed on this machine.
- **records_per_s**: the same rows (dated now) as our edge collector sends them — every
  field, three boards, three pools, four fans; gzip JSON batches of 1,000, one per poll of a
  zone, a device token and an idempotency key each — posted to ``POST
  /api/v1/edge/telemetry`` of the app served by gunicorn (``--http-workers`` workers, one
  per core by default, the production ini's settings: every plugin, Redis for the rate
  quota) from ``--http-clients`` connections at once; 30 zones of 1,000 miners, one edge
  device each. Median of ``--http-repeat`` runs; every stored row is counted. The CPU the
  gunicorn workers, their PostgreSQL backends and the client used per batch is read from
  /proc, and so is how busy the rest of the machine was meanwhile.
- **store**: the same rows through ``store()`` in batches of 1,000 (what one upload carries),
  one transaction per batch, as the receiver calls it: COPY into the partitioned raw table +
  live upsert; partitions made ahead by the partitions job as in production.
- **rollup_5min**: that bucket into 5-minute rows (``rollup_5min`` as the job runs it).
- **rollup_daily**: a day of 5-minute rows (``--miners`` x 288, generated in the database)
  into the daily per-miner/site/zone/customer rows (``rollup_daily``).

Each rollup runs ``--repeat`` times (median reported; the machine is shared). The last line is
JSON with ``records_per_s``, ``http_ratio_to_copy``, ``http`` (configuration, runs, CPU per
batch), ``rollup_5min_s``, ``rollup_daily_s``, ``copy_rows_per_s``, ``store_rows_per_s``,
``reference_insert_select_s`` (a plain five-aggregate INSERT … SELECT over the same bucket, for
scale) and the goals. Figures: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import itertools
import json
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hashinsight_core import migrate  # noqa: E402
from hashinsight_core.db import make_engine  # noqa: E402
from plugins.hosting.telemetry import store as store_module  # noqa: E402
from plugins.hosting.telemetry.config import TelemetryConfig  # noqa: E402
from plugins.hosting.telemetry.retention import prepare_partitions  # noqa: E402
from plugins.hosting.telemetry.rollup import rollup_5min, rollup_daily  # noqa: E402
from plugins.hosting.telemetry.rows import TelemetryRow  # noqa: E402

PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/13"
# Every shipped plugin, as production.ini enables them (the HTTP run serves that app).
PLUGINS = [
    "calculator",
    "crm",
    "hosting",
    "controlplane",
    "curtailment",
    "treasury",
    "intelligence",
]
BUCKET = dt.datetime(2026, 12, 3, 12, 0)  # the measured 5-minute bucket
DAY = dt.datetime(2026, 12, 2)  # the measured day
BATCH = 1_000
# 30 zones: 1,000 miners each at 30,000, one edge device each (a batch = one zone's poll).
SITES, ZONES_PER_SITE, CUSTOMERS = 3, 10, 50


def farm_rows(
    miners: int, polls: int, *, start: dt.datetime = BUCKET, span: float = 300.0
) -> list[TelemetryRow]:
    """``polls`` polls of every miner within ``span`` seconds from ``start`` (by default the
    measured bucket), in time order (as they would arrive)."""
    rng = random.Random(7)
    step = span / polls
    # 2 % of the miners are down for the whole bucket (a miner that stops answering stays
    # down for minutes, it does not flap from one poll to the next).
    down = set(rng.sample(range(1, miners + 1), miners // 50))
    rows = []
    for k in range(polls):
        for miner in range(1, miners + 1):
            zone = miner % (SITES * ZONES_PER_SITE)
            online = miner not in down
            rows.append(
                TelemetryRow(
                    ts=start + dt.timedelta(seconds=k * step + (miner % 1000) * step / 1000),
                    miner_id=miner,
                    site_id=1 + zone // ZONES_PER_SITE,
                    zone_id=1 + zone,
                    customer_id=1 + miner % CUSTOMERS,
                    device_id=1 + zone,
                    online=online,
                    hashrate_ths=rng.uniform(80, 110) if online else None,
                    hashrate_5s_ths=rng.uniform(80, 110) if online else None,
                    nominal_ths=95.0,
                    power_w=rng.uniform(3100, 3400) if online else None,
                    temp_max_c=rng.uniform(60, 85) if online else None,
                    temp_avg_c=rng.uniform(55, 70) if online else None,
                    fan_min_rpm=rng.randint(3000, 6000) if online else None,
                    fans_total=4,
                    fans_failed=0,
                    boards_total=3,
                    boards_ok=3,
                    accepted=100_000 + k * 20 + miner,
                    rejected=100 + k,
                    hw_errors=k,
                    uptime_s=86_400 + k * 30,
                    pool_url="stratum+tcp://btc.pool.example.com:3333",
                    error_class="",
                )
            )
    return rows


class Database:
    def __init__(self, pg_url: str):
        self.admin = sa.create_engine(pg_url)
        self.schema = f"bench_ingest_{uuid.uuid4().hex[:8]}"
        with self.admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{self.schema}"'))
        self.url = f"{pg_url}?options=-csearch_path%3D{self.schema}"
        migrate.upgrade(self.url, PLUGINS)
        self.engine = make_engine(self.url)
        self.sessions = sa.orm.sessionmaker(bind=self.engine)

    def close(self):
        self.engine.dispose()
        with self.admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{self.schema}" CASCADE'))
        self.admin.dispose()


def measure_copy(db: Database, rows: list[TelemetryRow]) -> tuple[float, float]:
    """COPY the rows into a plain table with raw's columns and primary key.

    Returns (rows/s of the COPY alone, rows/s of building the COPY text in Python)."""
    started = time.perf_counter()
    text = store_module.copy_text(rows).getvalue()
    formatting = time.perf_counter() - started
    with db.engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE bench_copy (LIKE hosting_telemetry_raw INCLUDING DEFAULTS, "
                "PRIMARY KEY (miner_id, ts))"
            )
        )
    with db.engine.begin() as conn:
        cursor = conn.connection.dbapi_connection.cursor()
        started = time.perf_counter()
        sql = store_module._COPY_SQL.replace("hosting_telemetry_raw", "bench_copy", 1)
        cursor.copy_expert(sql, io.StringIO(text))
    seconds = time.perf_counter() - started  # including the commit
    with db.engine.begin() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM bench_copy")) == len(rows)
        conn.execute(sa.text("DROP TABLE bench_copy"))
    return len(rows) / seconds, len(rows) / formatting


def measure_store(db: Database, rows: list[TelemetryRow], config: TelemetryConfig) -> float:
    """store() in batches of 1,000, one transaction each; returns rows/s."""
    with db.sessions() as session, session.begin():
        prepare_partitions(session, now=BUCKET, config=config)
    in_bucket = sa.text(
        "SELECT count(*) FROM hosting_telemetry_raw WHERE ts >= :start AND ts < :end"
    )
    span = {"start": BUCKET, "end": BUCKET + dt.timedelta(minutes=5)}
    started = time.perf_counter()
    for first in range(0, len(rows), BATCH):
        batch = rows[first : first + BATCH]
        now = max(row.ts for row in batch) + dt.timedelta(seconds=5)
        with db.sessions() as session, session.begin():
            assert store_module.store(session, batch, now=now, config=config) == len(batch)
    seconds = time.perf_counter() - started
    with db.engine.connect() as conn:
        assert conn.scalar(in_bucket, span) == len(rows)
    return len(rows) / seconds


def set_watermark(db: Database, name: str, value: dt.datetime) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO hosting_telemetry_watermarks (name, value) VALUES (:n, :v) "
                "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value"
            ),
            {"n": name, "v": value},
        )


def measure_rollup_5min(db: Database, miners: int, config: TelemetryConfig) -> float:
    """One run of the 5-minute rollup over the stored bucket, from an empty 5-minute table."""
    with db.engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE hosting_telemetry_5min, hosting_telemetry_dirty"))
    set_watermark(db, "5min", BUCKET)
    now = BUCKET + dt.timedelta(minutes=5) + config.grace
    started = time.perf_counter()
    with db.sessions() as session, session.begin():
        result = rollup_5min(session, now=now, config=config)
    seconds = time.perf_counter() - started
    assert result.rows == miners and result.end == BUCKET + dt.timedelta(minutes=5), result
    return seconds


def measure_reference(db: Database) -> float:
    """A plain hand-written INSERT … SELECT … GROUP BY over the same bucket (five aggregates,
    no upsert): what the database does at its simplest, for scale."""
    with db.engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE IF NOT EXISTS bench_reference (miner_id integer PRIMARY KEY, "
                "samples integer, hashrate float, power float, temp float)"
            )
        )
        conn.execute(sa.text("TRUNCATE bench_reference"))
    started = time.perf_counter()
    with db.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO bench_reference SELECT miner_id, count(*), avg(hashrate_ths), "
                "avg(power_w), max(temp_max_c) FROM hosting_telemetry_raw "
                "WHERE ts >= :start AND ts < :end GROUP BY miner_id"
            ),
            {"start": BUCKET, "end": BUCKET + dt.timedelta(minutes=5)},
        )
    return time.perf_counter() - started


def fill_day(db: Database, miners: int) -> float:
    """A day of 5-minute rows for every miner, generated in the database; returns seconds."""
    started = time.perf_counter()
    with db.sessions() as session, session.begin():
        from plugins.hosting.telemetry import partitions

        partitions.ensure(session.connection(), partitions.FIVE_MIN, DAY, DAY)
    with db.engine.begin() as conn:
        conn.execute(
            sa.text(
                f"""
            INSERT INTO hosting_telemetry_5min
            SELECT m, TIMESTAMP '{DAY.isoformat(" ")}' + k * INTERVAL '5 minutes',
                1 + (m % {SITES * ZONES_PER_SITE}) / {ZONES_PER_SITE},
                1 + m % {SITES * ZONES_PER_SITE}, 1 + m % {CUSTOMERS},
                10, 10 - (m + k) % 7 / 6, 10 - (m + k) % 7 / 6,
                90 + (m * 7 + k) % 20, 110.0, 95.0, 3250.0 + (m + k) % 100, 10,
                (3250.0 + (m + k) % 100) * 5 / 60 / 1000, 80.0, 65.0, 10,
                4000, 0, 0, 200, 1, 0, 0
            FROM generate_series(1, :miners) AS m, generate_series(0, 287) AS k
            """  # noqa: S608 (benchmark constants)
            ),
            {"miners": miners},
        )
        conn.execute(sa.text("ANALYZE hosting_telemetry_5min"))
    return time.perf_counter() - started


def measure_rollup_daily(db: Database, miners: int, config: TelemetryConfig) -> float:
    """One run of the daily rollup over the generated day, from empty daily tables."""
    with db.engine.begin() as conn:
        conn.execute(
            sa.text(
                "TRUNCATE hosting_telemetry_daily, hosting_telemetry_daily_sites, "
                "hosting_telemetry_daily_zones, hosting_telemetry_daily_customers, "
                "hosting_telemetry_dirty"
            )
        )
    set_watermark(db, "5min", DAY + dt.timedelta(days=1))
    set_watermark(db, "daily", DAY)
    now = DAY + dt.timedelta(days=1, minutes=10)
    started = time.perf_counter()
    with db.sessions() as session, session.begin():
        result = rollup_daily(session, now=now, config=config)
    seconds = time.perf_counter() - started
    assert result.end == DAY + dt.timedelta(days=1), result
    with db.engine.connect() as conn:
        count = conn.scalar(
            sa.text("SELECT count(*) FROM hosting_telemetry_daily WHERE day = :d"),
            {"d": DAY.date()},
        )
        assert count == miners, count
    return seconds


def repeated(measure, times: int) -> tuple[float, list[float]]:
    """(median, all runs): the machine is shared, so one run can be unlucky either way."""
    runs = [measure() for _ in range(times)]
    return statistics.median(runs), runs


# --- end to end through HTTP under gunicorn ---------------------------------------------------

HTTP_PATH = "/api/v1/edge/telemetry"


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="milliseconds") + "Z"


def wire_record(row: TelemetryRow, seq: int) -> dict:
    """``row`` as our edge collector sends it (``MinerRecord.to_wire()``: every field, three
    boards, three pools, four fans), so the receiver checks as much as it does in the field."""
    online = row.online
    ghs = None if row.hashrate_ths is None else row.hashrate_ths * 1000
    fans = [] if row.fan_min_rpm is None else [row.fan_min_rpm + 120 * i for i in range(4)]
    boards = []
    if online:
        for index in range(3):
            boards.append(
                {
                    "index": index,
                    "hashrate_ghs": round(ghs / 3, 2),
                    "chips": 76,
                    "expected_chips": 76,
                    "bad_chips": 0,
                    "temp_board_c": round(row.temp_avg_c - 5, 1),
                    "temp_chip_c": round(row.temp_max_c, 1),
                    "hardware_errors": row.hw_errors,
                    "status": "ok",
                }
            )
    pools = [
        {
            "index": index,
            "url": row.pool_url if index == 0 else f"stratum+tcp://backup{index}.example.com:3333",
            "user": f"acme.{row.miner_id}",
            "status": "Alive",
            "active": index == 0,
            "accepted": row.accepted if index == 0 else 0,
            "rejected": row.rejected if index == 0 else 0,
            "stale": 0,
        }
        for index in range(3)
    ]
    return {
        "miner_key": f"mk-{row.miner_id:06d}",
        "timestamp": _iso(row.ts),
        "online": online,
        "vendor": "antminer" if online else "",
        "model": "Antminer S19j Pro" if online else "",
        "firmware": "2023.05.11" if online else "",
        "api_version": "3.1" if online else "",
        "serial": f"SN{row.miner_id:08d}",
        "mac": "",
        "hashrate_ghs": None if row.hashrate_5s_ths is None else row.hashrate_5s_ths * 1000,
        "hashrate_avg_ghs": ghs,
        "hashrate_expected_ghs": row.nominal_ths * 1000 if online else None,
        "boards": boards,
        "fans_rpm": fans,
        "temp_max_c": row.temp_max_c,
        "temp_avg_c": row.temp_avg_c,
        "temp_env_c": 24.5 if online else None,
        "power_w": row.power_w,
        "power_limit_w": None,
        "work_mode": "normal" if online else "",
        "is_mining": online,
        "accepted": row.accepted,
        "rejected": row.rejected,
        "stale": 0,
        "hardware_errors": row.hw_errors,
        "pools": pools if online else [],
        "pool_url": row.pool_url if online else "",
        "pool_user": f"acme.{row.miner_id}" if online else "",
        "uptime_s": row.uptime_s,
        "errors": [] if online else ["connection timed out"],
        "error_class": "" if online else "timeout",
        "error_message": "" if online else "no answer within 5 s",
        "seq": seq,
    }


def create_farm(db: Database, miners: int) -> dict[int, str]:
    """Sites, zones, customers, ``miners`` online miners (ids 1..N, as farm_rows numbers them)
    and one edge device per zone; returns zone id -> the device's token."""
    from hashinsight_core.models import Customer
    from plugins.hosting import devices
    from plugins.hosting.models import EdgeDevice, Miner, Site, Zone

    zones = SITES * ZONES_PER_SITE
    tokens = {}
    with db.engine.begin() as conn:
        conn.execute(
            sa.insert(Customer.__table__),
            [{"id": c, "name": f"Customer {c}"} for c in range(1, CUSTOMERS + 1)],
        )
        conn.execute(
            sa.insert(Site.__table__),
            [{"id": s, "name": f"Site {s}"} for s in range(1, SITES + 1)],
        )
        conn.execute(
            sa.insert(Zone.__table__),
            [
                {"id": z, "site_id": 1 + (z - 1) // ZONES_PER_SITE, "name": f"Zone {z}"}
                for z in range(1, zones + 1)
            ],
        )
        devices_rows = []
        for zone in range(1, zones + 1):
            secret = devices.new_secret()
            tokens[zone] = secret
            devices_rows.append(
                {
                    "id": zone,
                    "name": f"collector-{zone}",
                    "site_id": 1 + (zone - 1) // ZONES_PER_SITE,
                    "zone_id": zone,
                    "token_hash": devices.digest(secret),
                    "token_prefix": secret[:10],
                }
            )
        conn.execute(sa.insert(EdgeDevice.__table__), devices_rows)
        values = []
        for miner in range(1, miners + 1):
            zone = miner % zones
            values.append(
                {
                    "id": miner,
                    "serial": f"SN{miner:08d}",
                    "miner_key": f"mk-{miner:06d}",
                    "model_name": "Antminer S19j Pro",
                    "nominal_ths": 95.0,
                    "nominal_w": 3250.0,
                    "customer_id": 1 + miner % CUSTOMERS,
                    "site_id": 1 + zone // ZONES_PER_SITE,
                    "zone_id": 1 + zone,
                    "status": "online",  # steady state: reports change no status
                    "pool_url": "stratum+tcp://btc.pool.example.com:3333",
                }
            )
        conn.execute(sa.insert(Miner.__table__), values)
        for table in (
            "core_customers",
            "hosting_sites",
            "hosting_zones",
            "hosting_edge_devices",
            "hosting_miners",
        ):
            conn.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT max(id) FROM {table}))"
                )
            )
        conn.execute(sa.text("ANALYZE"))
    return tokens


def http_batches(rows: list[TelemetryRow], tokens: dict[int, str]) -> dict[int, list[bytes]]:
    """Per zone (= device), its rows in time order in gzip JSON batches of up to 1,000."""
    import gzip

    import orjson

    from edge_collector.wire import telemetry_body

    by_zone: dict[int, list[TelemetryRow]] = {}
    for row in rows:
        by_zone.setdefault(row.zone_id, []).append(row)
    batches = {}
    for zone, zone_rows in sorted(by_zone.items()):
        zone_rows.sort(key=lambda r: r.ts)
        batches[zone] = []
        for first in range(0, len(zone_rows), BATCH):
            chunk = zone_rows[first : first + BATCH]
            records = [wire_record(row, first + i + 1) for i, row in enumerate(chunk)]
            body = telemetry_body(
                batch_id=str(uuid.uuid4()),
                device_id=f"edge-{zone}",
                site_id="",
                zone_id=str(zone),
                stream="raw",
                records=records,
                seq_first=first + 1,
                seq_last=first + len(chunk),
                dropped_total=0,
            )
            # What the collector sends: compact JSON, gzip level 5 (edge_collector.wire).
            batches[zone].append(
                (body["batch_id"], gzip.compress(orjson.dumps(body), compresslevel=5))
            )
    return batches


def write_ini(folder: Path, db_url: str, redis_url: str, plugins: list[str]) -> Path:
    """The production ini's app settings, on the benchmark database."""
    from hashinsight_core.audit.cli import cmd_keygen

    key = folder / "audit-signing.key"
    with contextlib.redirect_stdout(io.StringIO()):  # it prints the public key
        cmd_keygen(argparse.Namespace(out=str(key), force=False))
    ini = folder / "bench.ini"
    ini.write_text(
        "\n".join(
            [
                "[app:main]",
                "use = egg:hashinsight",
                "hashinsight.env = production",
                f"hashinsight.secret = {uuid.uuid4().hex}{uuid.uuid4().hex}",
                f"hashinsight.plugins = {' '.join(plugins)}",
                f"hashinsight.var_dir = {folder}",
                f"sqlalchemy.url = {db_url.replace('%', '%%')}",
                f"redis.url = {redis_url}",
                "huey.backend = redis",
                "cache.backend = redis",
                "session.backend = redis",
                "auth.throttle.storage = redis",
                f"audit.signing_key_file = {key}",
                "mail.backend = files",
                f"mail.directory = {folder}",
                "pyramid.reload_templates = false",
                "",
            ]
        )
    )
    return ini


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(ini: Path, workers: int, worker_class: str, threads: int):
    import subprocess
    import urllib.request

    port = _free_port()
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "--paste", str(ini),
        "--workers", str(workers),
        "--worker-class", worker_class,
        "--threads", str(threads if worker_class == "gthread" else 1),
        "--bind", f"127.0.0.1:{port}",
        "--keep-alive", "30",
        "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT)  # noqa: S603 (our own command line)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return process, port
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise RuntimeError("gunicorn did not answer within 60 s")


def post_batches(port: int, jobs: list[tuple[str, str, bytes]]) -> tuple[int, int, list[str]]:
    """POST each (token, key, body) in order on one keep-alive connection; returns
    (records accepted, batches, problems)."""
    import http.client

    import orjson

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    accepted, problems = 0, []
    for token, key, body in jobs:
        connection.request(
            "POST",
            HTTP_PATH,
            body,
            {
                "Authorization": f"Bearer {token}",
                "Idempotency-Key": key,
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
                "User-Agent": "hashinsight-edge/bench",
            },
        )
        response = connection.getresponse()
        answer = response.read()
        if response.status != 200:
            problems.append(f"{response.status}: {answer[:200]!r}")
            continue
        result = orjson.loads(answer)
        accepted += result["accepted"]
        if result["rejected"]:
            problems.append(f"rejected: {result['rejected'][:3]}")
    connection.close()
    return accepted, len(jobs), problems


APP_NAME = "bench_ingest_http"


def children(pid: int) -> list[int]:
    """The processes ``pid`` started (gunicorn's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / ticks


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy so far (every process; /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def client_jobs(batches: dict, tokens: dict[int, str], clients: int) -> tuple[list, list]:
    """(warm-up, timed) (token, key, body) lists per client. Each device's first batch is the
    warm-up; a client drives its devices round-robin, each device's batches in order (a
    collector sends its spool oldest first), so no two requests of a device overlap."""
    warmup = [[] for _ in range(clients)]
    timed = [[] for _ in range(clients)]
    for position, (zone, zone_batches) in enumerate(sorted(batches.items())):
        client = position % clients
        first, *rest = zone_batches
        warmup[client].append((tokens[zone], *first))
        timed[client].append([(tokens[zone], key, body) for key, body in rest])
    for client, devices in enumerate(timed):
        rounds = itertools.zip_longest(*devices)
        timed[client] = [job for group in rounds for job in group if job is not None]
    return warmup, timed


def measure_http(db: Database, args) -> dict | None:
    """Records/s end to end: gzip JSON batches of 1,000 through ``POST /api/v1/edge/telemetry``
    under gunicorn (the production ini's settings, Redis for the rate quota), from
    ``--http-clients`` connections at once, ``--http-repeat`` runs (median reported).

    Each run posts farm_rows' rows (the same values as the COPY and store() runs) dated from
    just now on: the receiver refuses polls far from its clock, and fresh polls are what a farm
    that keeps up sends (no late-data marks). One extra poll per device goes first as a
    warm-up and is not timed. Besides the wall clock, the CPU seconds of the gunicorn workers,
    of their PostgreSQL backends and of this client are read from /proc, per batch, and so is
    how busy the rest of the (shared) machine was meanwhile.
    """
    import shutil
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    if not shutil.which("gunicorn", path=str(Path(sys.executable).parent)):
        print("gunicorn is not installed (pip install gunicorn): HTTP not measured", flush=True)
        return None
    tokens = create_farm(db, args.miners)
    polls, step = args.polls + 1, 4.0  # polls 4 s apart
    first_start = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=5)
    with db.sessions() as session, session.begin():
        prepare_partitions(session, now=first_start)
    folder = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    # The app's connections carry a name, so their PostgreSQL backends can be found.
    app_url = f"{db.url}&application_name={APP_NAME}"
    ini = write_ini(folder, app_url, args.redis_url, args.http_plugins.split())
    process, port = start_gunicorn(
        ini, args.http_workers, args.http_worker_class, args.http_threads
    )
    runs = []
    try:
        with ThreadPoolExecutor(args.http_clients) as pool:
            for run in range(args.http_repeat):
                start = first_start + dt.timedelta(seconds=run * polls * step)
                rows = farm_rows(args.miners, polls, start=start, span=polls * step)
                warmup, timed = client_jobs(http_batches(rows, tokens), tokens, args.http_clients)
                del rows
                list(pool.map(lambda jobs: post_batches(port, jobs), warmup))
                runs.append(timed_run(db, pool, port, process.pid, timed))
    finally:
        process.terminate()
        process.wait(30)
        shutil.rmtree(folder, ignore_errors=True)
    with db.engine.connect() as conn:
        late = conn.scalar(sa.text("SELECT count(*) FROM hosting_telemetry_dirty"))
    median = sorted(runs, key=lambda r: r["records_per_s"])[len(runs) // 2]
    return {**median, "late_marks": late, "runs": [round(r["records_per_s"]) for r in runs]}


def timed_run(db: Database, pool, port: int, gunicorn: int, timed: list) -> dict:
    with db.engine.connect() as conn:
        before = conn.scalar(sa.text("SELECT count(*) FROM hosting_telemetry_raw"))
        backends = list(
            conn.scalars(
                sa.text("SELECT pid FROM pg_stat_activity WHERE application_name = :n"),
                {"n": APP_NAME},
            )
        )
    workers = children(gunicorn)
    cpu_before = (cpu_seconds(workers), cpu_seconds(backends), time.process_time())
    machine_before = busy_seconds()
    load = os.getloadavg()[0]
    started = time.perf_counter()
    outcomes = list(pool.map(lambda jobs: post_batches(port, jobs), timed))
    seconds = time.perf_counter() - started
    cpu_after = (cpu_seconds(workers), cpu_seconds(backends), time.process_time())
    machine = busy_seconds() - machine_before
    accepted = sum(o[0] for o in outcomes)
    sent = sum(o[1] for o in outcomes)
    problems = [p for o in outcomes for p in o[2]]
    with db.engine.connect() as conn:
        stored = conn.scalar(sa.text("SELECT count(*) FROM hosting_telemetry_raw")) - before
    if problems:
        print(f"{len(problems)} problem answers, e.g. {problems[:3]}", flush=True)
    assert stored == accepted, (stored, accepted)
    ours = sum(a - b for a, b in zip(cpu_after, cpu_before, strict=True))
    return {
        "records_per_s": accepted / seconds,
        "seconds": seconds,
        "records": accepted,
        "batches": sent,
        "problem_answers": len(problems),
        "mb_on_wire": sum(len(body) for jobs in timed for _t, _k, body in jobs) / 1e6,
        "load_average": load,
        # Cores busy with other sessions' work meanwhile (the machine is shared).
        "other_processes_cores": (machine - ours) / seconds,
        # CPU per batch of 1,000: what the figure would be on free cores.
        "cpu_ms_per_batch": {
            name: round((after - before) / sent * 1000, 1)
            for name, before, after in zip(
                ("web", "postgresql", "client"), cpu_before, cpu_after, strict=True
            )
        },
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--miners", type=int, default=30_000)
    parser.add_argument("--polls", type=int, default=10, help="polls per miner in the bucket")
    parser.add_argument("--skip-daily", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each rollup (median)")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--redis-url", default=REDIS_URL, help="the rate quota's storage")
    cores = os.cpu_count() or 2
    parser.add_argument("--http-workers", type=int, default=cores, help="gunicorn workers")
    parser.add_argument("--http-worker-class", default="sync", help="sync or gthread")
    parser.add_argument("--http-threads", type=int, default=2, help="threads per gthread worker")
    parser.add_argument(
        "--http-clients", type=int, default=2 * cores, help="client connections at once"
    )
    parser.add_argument(
        "--http-plugins", default=" ".join(PLUGINS), help="plugins the served app enables"
    )
    parser.add_argument("--http-repeat", type=int, default=3, help="HTTP runs (median)")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--only-http", action="store_true", help="COPY and HTTP only")
    args = parser.parse_args(argv)
    config = TelemetryConfig(raw_retention_hours=24 * 365)  # the fixed dates stay in reach

    results: dict = {"miners": args.miners, "raw_rows": args.miners * args.polls}
    results["load_average_at_start"] = round(os.getloadavg()[0], 2)
    rows = farm_rows(args.miners, args.polls)
    db = Database(args.pg_url)
    try:
        copy_rate, format_rate = measure_copy(db, rows)
        results["copy_rows_per_s"] = round(copy_rate)
        results["copy_text_rows_per_s"] = round(format_rate)
        print(
            f"raw COPY of {len(rows):,} rows into an indexed table: {copy_rate:,.0f} rows/s "
            f"(building the COPY text in Python: {format_rate:,.0f} rows/s)",
            flush=True,
        )
        http = None if args.skip_http else measure_http(db, args)
        if http is not None:
            results["records_per_s"] = round(http["records_per_s"])
            results["http_ratio_to_copy"] = round(http["records_per_s"] / copy_rate, 3)
            results["http"] = {
                "workers": args.http_workers,
                "worker_class": args.http_worker_class,
                "threads": args.http_threads if args.http_worker_class == "gthread" else 1,
                "clients": args.http_clients,
                "cores": os.cpu_count(),
                "runs_records_per_s": http["runs"],
                "batches": http["batches"],
                "records": http["records"],
                "seconds": round(http["seconds"], 3),
                "mb_on_wire": round(http["mb_on_wire"], 1),
                "problem_answers": http["problem_answers"],
                "late_marks": http["late_marks"],
                "load_average": round(http["load_average"], 2),
                "other_processes_cores": round(http["other_processes_cores"], 2),
                "cpu_ms_per_batch": http["cpu_ms_per_batch"],
            }
            print(
                f"end to end through HTTP (gunicorn {args.http_worker_class}, "
                f"{args.http_workers} workers, {args.http_clients} clients): "
                f"{http['records']:,} records in {http['batches']:,} gzip batches of {BATCH:,} "
                f"in {http['seconds']:.2f} s = {http['records_per_s']:,.0f} records/s "
                f"({http['records_per_s'] / copy_rate:.0%} of the raw COPY; median of "
                f"{', '.join(f'{r:,}' for r in http['runs'])}); CPU ms per batch: "
                f"{http['cpu_ms_per_batch']}; other processes kept "
                f"{http['other_processes_cores']:.2f} cores busy",
                flush=True,
            )
        else:
            results["records_per_s_note"] = "HTTP end to end not measured"
        if args.only_http:
            print(json.dumps(results, sort_keys=True))
            return 0
        store_rate = measure_store(db, rows, config)
        results["store_rows_per_s"] = round(store_rate)
        print(
            f"store(), batches of {BATCH:,}, one transaction each: {store_rate:,.0f} rows/s",
            flush=True,
        )
        seconds, runs = repeated(lambda: measure_rollup_5min(db, args.miners, config), args.repeat)
        results["rollup_5min_s"] = round(seconds, 3)
        results["rollup_5min_runs_s"] = [round(r, 3) for r in runs]
        print(
            f"5-minute rollup of one bucket ({len(rows):,} raw rows, {args.miners:,} miners): "
            f"{seconds:.3f} s (median of {', '.join(f'{r:.3f}' for r in runs)})",
            flush=True,
        )
        reference, _runs = repeated(lambda: measure_reference(db), args.repeat)
        results["reference_insert_select_s"] = round(reference, 3)
        print(
            f"for scale, a plain INSERT … SELECT … GROUP BY (5 aggregates) over the same "
            f"bucket: {reference:.3f} s",
            flush=True,
        )
        if not args.skip_daily:
            filled = fill_day(db, args.miners)
            print(f"generated {args.miners * 288:,} 5-minute rows in {filled:.1f} s", flush=True)
            seconds, runs = repeated(
                lambda: measure_rollup_daily(db, args.miners, config), args.repeat
            )
            results["rollup_daily_s"] = round(seconds, 3)
            results["rollup_daily_runs_s"] = [round(r, 3) for r in runs]
            print(
                f"daily rollup of one day ({args.miners * 288:,} 5-minute rows) into "
                f"per-miner, site, zone and customer rows: {seconds:.3f} s "
                f"(median of {', '.join(f'{r:.3f}' for r in runs)})",
                flush=True,
            )
    finally:
        db.close()
    if "records_per_s" in results:
        results["goal_records_per_s_50000"] = results["records_per_s"] >= 50_000
    results["goal_rollup_5min_under_0_5s"] = results["rollup_5min_s"] < 0.5
    if "rollup_daily_s" in results:
        results["goal_rollup_daily_under_10s"] = results["rollup_daily_s"] < 10
    print(json.dumps(results, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
