"""Spool and upload: every record reaches the server exactly once, in order, across outages
of the server and crashes of the collector."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict

import pytest

from edge_collector.config import build_config
from edge_collector.service import Collector
from edge_collector.spool import Spool
from edge_collector.uploader import backoff_delay

from .receiver import TOKEN, Receiver


def test_batches_are_stable_until_confirmed(tmp_path):
    spool = Spool(tmp_path / "s.db")
    spool.add("raw", [{"n": i} for i in range(5)])
    first = spool.next_batch("raw", 3)
    again = spool.next_batch("raw", 3)
    assert first.batch_id == again.batch_id and [r["n"] for r in again.records] == [0, 1, 2]
    spool.close()
    reopened = Spool(tmp_path / "s.db")  # a restart keeps the open batch and its key
    assert reopened.next_batch("raw", 3).batch_id == first.batch_id
    reopened.confirm(first.batch_id)
    second = reopened.next_batch("raw", 3)
    assert [r["seq"] for r in second.records] == [4, 5]
    assert reopened.depth() == {"raw": 2}


def test_age_and_size_limits_drop_oldest_and_count(tmp_path):
    spool = Spool(tmp_path / "s.db", max_bytes=10_000, max_age_s={"latest": 60})
    spool.add("latest", [{"n": 1}], now=time.time() - 120)
    spool.add("latest", [{"n": 2}])
    assert spool.depth() == {"latest": 1} and spool.dropped("latest") == 1
    spool.add("raw", [{"pad": "x" * 100, "n": i} for i in range(200)])
    assert spool.size_bytes() <= 10_000 and spool.dropped("raw") > 0
    left = spool.next_batch("raw", 1000)
    assert left.records[-1]["n"] == 199  # the newest survive


def test_backoff_grows_with_jitter_and_is_capped():
    import random

    rng = random.Random(1)
    delays = [backoff_delay(n, 1.0, 60.0, rng) for n in range(12)]
    assert 0.5 <= delays[0] <= 1.0 and all(d <= 60 for d in delays) and delays[8] >= 30


def check_exactly_once(received: list[dict], remaining: list[int]):
    seqs = [r["seq"] for r in received]
    assert len(seqs) == len(set(seqs)), "a record arrived twice"
    everything = sorted(seqs + remaining)
    assert everything == list(range(1, len(everything) + 1)), "a record was lost"
    by_miner = defaultdict(list)
    for record in received:
        by_miner[record["miner_key"]].append(record["seq"])
    for miner_seqs in by_miner.values():
        assert miner_seqs == sorted(miner_seqs), "records of a miner arrived out of order"


def remaining_seqs(state_dir) -> list[int]:
    with sqlite3.connect(state_dir / "spool.sqlite3") as db:
        return [row[0] for row in db.execute("SELECT seq FROM spool WHERE stream = 'raw'")]


def config_for(sim, receiver, state_dir, **poll):
    return {
        "server": {"url": receiver.url, "device_token": TOKEN, "site_id": "site-1"},
        "collector": {"state_dir": str(state_dir)},
        "miners": {"targets": [f"{sim.block}.1-{sim.block}.{len(sim.miners)}"], "timeout_s": 2},
        "poll": {"raw_interval_s": 0.2, "latest_interval_s": 0, **poll},
        "upload": {"batch_size": 3, "backoff_initial_s": 0.05, "backoff_max_s": 0.3},
    }


async def wait_until(condition, timeout=20.0):
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def test_server_outage_then_every_record_exactly_once_in_order(make_farm, tmp_path):
    sim = make_farm({"S19": 2, "M30S+": 1, "A1246": 1})
    receiver = Receiver()
    config = build_config(config_for(sim, receiver, tmp_path / "state"))
    collector = Collector(config)

    async def scenario():
        task = asyncio.create_task(collector.run())
        await wait_until(lambda: len(receiver.records()) >= 8)
        receiver.stop()
        await wait_until(lambda: collector.uploader.failures >= 2)
        # Counted once uploads fail: a batch already in flight when the server stopped may
        # still have landed just before, but nothing may land while it is down.
        during = len(receiver.records())
        await asyncio.sleep(0.5)
        assert len(receiver.records()) == during
        receiver.start()
        await wait_until(lambda: len(receiver.records()) >= during + 16)
        collector.stop.set()
        await task

    try:
        asyncio.run(scenario())
    finally:
        receiver.stop()
    assert receiver.discovery and len(receiver.discovery[0]["candidates"]) == 4
    assert "ip" not in receiver.records()[0]  # miner IPs stay on the edge by default
    check_exactly_once(receiver.records(), remaining_seqs(tmp_path / "state"))


def test_killed_mid_batch_then_restarted_loses_and_duplicates_nothing(make_farm, tmp_path):
    sim = make_farm({"S19": 2, "A1246": 2})
    receiver = Receiver()
    receiver.hang_on_post = 3
    path = tmp_path / "edge.json"
    path.write_text(json.dumps(config_for(sim, receiver, tmp_path / "state")))
    command = [sys.executable, "-m", "edge_collector.cli", "run", "--config", str(path)]
    env = {**os.environ, "HASHINSIGHT_EDGE_TOKEN": TOKEN}
    first = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    second = None
    try:
        assert receiver.hanging.wait(30), "collector never reached the third batch"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        receiver.release.set()
        stuck_key = receiver.batches[-1]["batch_id"]
        accepted_before = len(receiver.records())
        second = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if stuck_key in receiver.duplicates and len(receiver.records()) >= accepted_before + 12:
                break
            time.sleep(0.1)
        assert stuck_key in receiver.duplicates, "the interrupted batch was not re-sent"
        second.send_signal(signal.SIGTERM)
        assert second.wait(20) == 0
    finally:
        for proc in (first, second):
            if proc and proc.poll() is None:
                proc.kill()
                proc.wait(5)
        receiver.stop()
    check_exactly_once(receiver.records(), remaining_seqs(tmp_path / "state"))


def test_unauthorized_is_retried_not_dropped(make_farm, tmp_path):
    sim = make_farm({"A1366": 1})
    receiver = Receiver()
    data = config_for(sim, receiver, tmp_path / "state")
    data["server"]["device_token"] = "wrong"
    collector = Collector(build_config(data))

    async def scenario():
        task = asyncio.create_task(collector.run())
        await wait_until(lambda: collector.uploader.failures >= 2)
        collector.stop.set()
        await task

    try:
        asyncio.run(scenario())
    finally:
        receiver.stop()
    assert receiver.records() == [] and remaining_seqs(tmp_path / "state")
    spool = Spool(tmp_path / "state" / "spool.sqlite3")
    assert spool.get("last_upload_error") == "auth" and spool.dropped("raw") == 0


@pytest.mark.parametrize("share", [True, False])
def test_ip_policy(make_farm, tmp_path, share):
    sim = make_farm({"S9": 1})
    receiver = Receiver()
    data = config_for(sim, receiver, tmp_path / "state")
    data["collector"]["share_miner_ips"] = share
    collector = Collector(build_config(data))

    async def scenario():
        task = asyncio.create_task(collector.run())
        await wait_until(lambda: len(receiver.records()) >= 1)
        collector.stop.set()
        await task

    try:
        asyncio.run(scenario())
    finally:
        receiver.stop()
    assert ("ip" in receiver.records()[0]) is share
    assert ("ip" in receiver.discovery[0]["candidates"][0]) is share
