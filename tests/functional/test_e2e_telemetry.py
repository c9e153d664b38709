"""End to end: simulated miners -> edge collector -> HTTP receiver -> raw/live -> rollup ->
the monitoring API, whose numbers must equal the same aggregates computed straight from raw
with SQL here.

The app is served by waitress on a free local port (a real HTTP server, as in production);
the simulator and the collector run in this process (the collector exactly as
``hashinsight-edge run --once`` does, three times, so every miner has three polls).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import socket
import threading
import time

import pytest
import sqlalchemy as sa

from hashinsight_core.db import utcnow
from plugins.hosting.telemetry.config import BUCKET, floor_time
from tests.conftest import api_headers, base_settings, login

MODELS = {"S19jPro": 8, "M30S+": 6, "A1366": 6}  # Antminer, Whatsminer and Avalon firmware
POLLS = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, timeout: float = 20.0, step: float = 0.05):
    """Poll ``condition`` until it returns something true (or fail after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"condition not met in {timeout} s")


@pytest.fixture
def server(db_url, engine):
    """The whole app on a free local port, served by waitress in a thread."""
    from waitress.server import create_server

    from hashinsight_core import make_config

    settings = base_settings(db_url)
    settings["hashinsight.engine"] = engine
    app = make_config(settings, environ={}).make_wsgi_app()
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=10)


@pytest.fixture
def simulated(tmp_path):
    """20 simulated miners on a loopback block of their own (no root needed on Linux)."""
    from edge_collector.simulator import SimulatorThread, build_farm

    block = f"127.{random.SystemRandom().randint(100, 250)}.{random.SystemRandom().randint(0, 255)}"
    groups = [{"model": model, "count": count} for model, count in MODELS.items()]
    groups[0]["start"] = f"{block}.1"
    settings = {
        "seed": 11,
        "http_port": free_port(),
        "board_fault_per_day": 0.0,
        "reply_refresh_s": 0.0,  # every poll sees fresh figures
    }
    farm = build_farm({"farm": settings, "miners": groups})
    with SimulatorThread(farm) as sim:
        sim.block = block
        sim.farm = farm
        yield sim


def seed(dbsession, sim, salt: str) -> dict:
    """The inventory the provider keeps: one site and zone, the miners with their serials
    and the keys the collector (whose salt is ``salt``) reports them by."""
    from edge_collector.poller import miner_key_for
    from hashinsight_core.models import Customer
    from plugins.hosting.models import Miner, Site, Zone

    customer = Customer(name="Acme")
    site = Site(name="E2E site")
    dbsession.add_all([customer, site])
    dbsession.flush()
    zone = Zone(site_id=site.id, name="Hall 1")
    dbsession.add(zone)
    dbsession.flush()
    miners = []
    for n, (ip, sim_miner) in enumerate(sorted(sim.miners.items())):
        miners.append(
            Miner(
                serial=sim_miner.serial,
                miner_key=miner_key_for(ip, salt),
                model_name=sim_miner.model.name,
                nominal_ths=sim_miner.model.nominal_ths,
                site_id=site.id,
                zone_id=zone.id,
                customer_id=customer.id if n % 2 else None,
                status="installed",
            )
        )
    dbsession.add_all(miners)
    dbsession.commit_now()
    return {"site": site, "zone": zone, "customer": customer, "miners": miners}


def collector_config(tmp_path, server_url, token, farm_rows, sim) -> object:
    from edge_collector.config import build_config

    last = len(sim.miners)
    data = {
        "server": {
            "url": server_url,
            "device_token": token,
            "site_id": str(farm_rows["site"].id),
            "zone_id": str(farm_rows["zone"].id),
            "timeout_s": 10,
        },
        "collector": {"state_dir": str(tmp_path / "edge-state")},
        "miners": {
            "targets": [f"{sim.block}.1-{sim.block}.{last}"],
            "timeout_s": 2,
            "scan_timeout_s": 1,
            "rescan_interval_s": 0,
        },
        "poll": {"raw_interval_s": 1, "latest_interval_s": 0},
        "upload": {"backoff_initial_s": 0.05, "backoff_max_s": 0.5},
        "credentials": {"antminer_web_port": sim.farm.settings.http_port},
    }
    return build_config(data, tmp_path / "edge.toml")


def raw_aggregates(engine, start: dt.datetime, end: dt.datetime) -> dict:
    """The fleet's 5-minute figures for [start, end), computed from raw with SQL: each miner's
    mean hashrate over all its polls (an unanswered poll counts 0) and mean reported power,
    then summed over the miners."""
    per_miner = sa.text(
        """
        SELECT miner_id,
               AVG(CASE WHEN online THEN COALESCE(hashrate_ths, 0) ELSE 0 END) AS rate,
               AVG(power_w) AS power,
               COUNT(*) AS samples
        FROM hosting_telemetry_raw
        WHERE ts >= :start AND ts < :end
        GROUP BY miner_id
        """
    )
    with engine.connect() as conn:
        rows = conn.execute(per_miner, {"start": start, "end": end}).all()
    return {
        "miners": len(rows),
        "samples": sum(r.samples for r in rows),
        "hashrate_ths": sum(r.rate for r in rows),
        "power_w": sum(r.power or 0 for r in rows),
    }


def test_simulator_to_dashboard_numbers_agree_with_raw(
    server, simulated, webtest, engine, dbsession, tmp_path
):
    from edge_collector.service import Collector
    from edge_collector.spool import Spool

    # The collector's miner-key salt lives in its state; make it now, as `hashinsight demo` does.
    spool = Spool(tmp_path / "edge-state" / "spool.sqlite3")
    salt = spool.identity()[1]
    spool.close()
    farm_rows = seed(dbsession, simulated, salt)

    # An admin registers the edge device for the zone; its token is shown once.
    login(webtest, engine, "admin")
    device = webtest.post_json(
        f"/api/v1/hosting/zones/{farm_rows['zone'].id}/devices",
        {"name": "e2e-collector"},
        headers=api_headers(webtest),
        status=201,
    ).json
    config = collector_config(tmp_path, server, device["token"], farm_rows, simulated)

    def raw_count() -> int:
        with engine.connect() as conn:
            return conn.scalar(sa.text("SELECT count(*) FROM hosting_telemetry_raw"))

    miners = len(farm_rows["miners"])
    for n in range(1, POLLS + 1):
        assert asyncio.run(Collector(config).run(once=True)) == 0
        wait_for(lambda n=n: raw_count() >= n * miners)
        time.sleep(0.02)  # the next poll gets a later timestamp
    assert raw_count() == POLLS * miners  # every poll stored once, nothing twice
    with engine.connect() as conn:
        live = conn.execute(
            sa.text(
                "SELECT count(*), sum(CASE WHEN online THEN 1 ELSE 0 END) "
                "FROM hosting_telemetry_live"
            )
        ).one()
        newest = conn.execute(
            sa.text(
                """
                SELECT count(*), sum(r.hashrate_ths), sum(r.power_w), sum(m.nominal_ths)
                FROM hosting_telemetry_raw r JOIN hosting_miners m ON m.id = r.miner_id
                WHERE r.online AND r.ts = (SELECT max(ts) FROM hosting_telemetry_raw x
                                           WHERE x.miner_id = r.miner_id)
                """
            )
        ).one()
        metered_rate = conn.scalar(
            sa.text(
                """
                SELECT sum(r.hashrate_ths) FROM hosting_telemetry_raw r
                WHERE r.online AND r.power_w IS NOT NULL
                  AND r.ts = (SELECT max(ts) FROM hosting_telemetry_raw x
                              WHERE x.miner_id = r.miner_id)
                """
            )
        )
    assert tuple(live) == (miners, miners)

    # The fleet overview, over HTTP as a browser would ask it, equals the newest raw polls.
    fleet = webtest.get("/api/v1/hosting/monitor/fleet").json
    assert (fleet["miners"], fleet["online"], fleet["offline"]) == (miners, newest[0], 0)
    assert fleet["hashrate_ths"] == pytest.approx(newest[1])
    assert fleet["power_w"] == pytest.approx(newest[2] or 0)
    assert fleet["nominal_ths"] == pytest.approx(newest[3])
    if metered_rate:
        assert fleet["j_per_th"] == pytest.approx(newest[2] / metered_rate)
    table = webtest.get("/api/v1/hosting/monitor/miners?sort=hashrate&order=desc&limit=200").json
    assert table["total"] == miners
    assert sum(i["hashrate_ths"] for i in table["items"]) == pytest.approx(newest[1])

    # Roll up as the worker does, at a moment when the polls' buckets are closed.
    from plugins.hosting.telemetry.rollup import rollup_5min

    with engine.connect() as conn:
        first, last = conn.execute(
            sa.text("SELECT min(ts), max(ts) FROM hosting_telemetry_raw")
        ).one()
    first, last = (
        v if isinstance(v, dt.datetime) else dt.datetime.fromisoformat(v) for v in (first, last)
    )
    later = floor_time(last, BUCKET) + BUCKET + dt.timedelta(minutes=3)
    rollup_5min(dbsession, now=later)
    dbsession.commit_now()

    # Every bucket the polls fell in: the API's 5-minute curve equals raw aggregated by SQL.
    series = webtest.get("/api/v1/hosting/monitor/fleet").json["series"]
    by_time = dict(
        zip(series["t"], zip(series["hashrate_ths"], series["power_w"], strict=True), strict=True)
    )
    bucket = floor_time(first, BUCKET)
    checked = 0
    while bucket <= last:
        expected = raw_aggregates(engine, bucket, bucket + BUCKET)
        key = int(bucket.replace(tzinfo=dt.UTC).timestamp() * 1000)
        assert key in by_time, f"no 5-minute point for {bucket}"
        rate, power = by_time[key]
        assert rate == pytest.approx(expected["hashrate_ths"])
        assert power == pytest.approx(expected["power_w"])
        checked += expected["samples"]
        bucket += BUCKET
    assert checked == POLLS * miners

    # One miner's page data: its 24-hour series is exactly its raw polls.
    miner = farm_rows["miners"][0]
    data = webtest.get(f"/api/v1/hosting/miners/{miner.id}/telemetry").json
    with engine.connect() as conn:
        polls = (
            conn.execute(
                sa.text(
                    "SELECT hashrate_ths FROM hosting_telemetry_raw WHERE miner_id = :m ORDER BY ts"
                ),
                {"m": miner.id},
            )
            .scalars()
            .all()
        )
    assert data["raw"]["hashrate_ths"] == pytest.approx(polls)
    assert data["live"]["state"] in ("online", "warning")
    assert utcnow() - dt.datetime.fromisoformat(data["live"]["seen"].rstrip("Z")) < dt.timedelta(
        minutes=5
    )
