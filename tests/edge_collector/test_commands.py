"""Commands: executed through each vendor's control surface against the simulator, verified
from telemetry, acknowledged; expired, foreign-site, unsigned and duplicate ones refused."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from edge_collector.config import build_config
from edge_collector.service import Collector

from .receiver import TOKEN, Receiver


@pytest.fixture
def rig(make_farm, tmp_path):
    """A farm (one of each vendor, and a Whatsminer on API v3), a receiver and a collector
    with commands enabled."""
    sim = make_farm({"S19": 1, "M30S+": 1, "A1246": 1, "M60S": 1}, reboot_s=0.4)
    receiver = Receiver()
    config = build_config(
        {
            "server": {"url": receiver.url, "device_token": TOKEN, "site_id": "site-1"},
            "collector": {"state_dir": str(tmp_path / "state")},
            "miners": {"targets": [f"{sim.block}.1-{sim.block}.4"], "timeout_s": 1},
            "commands": {
                "enabled": True,
                "allow_unsigned": True,
                "verify_interval_s": 0.05,
                "verify_timeout_s": 8,
            },
            "credentials": {"antminer_web_port": sim.http_port},
        }
    )
    collector = Collector(config)
    asyncio.run(collector.discover())
    yield sim, receiver, collector
    receiver.stop()
    collector.spool.close()


_counter = iter(range(1, 10_000))


def command(collector, ip, action, **extra):
    key = collector.infos[ip].miner_key
    body = {
        "id": f"cmd-{next(_counter)}",
        "site_id": "site-1",
        "miner_key": key,
        "action": action,
        "params": extra.pop("params", {}),
        "expires_at": (datetime.now(UTC) + timedelta(minutes=5)).isoformat(),
    }
    body.update(extra)
    return body


def run_commands(collector, receiver, *bodies):
    receiver.commands = list(bodies)

    async def go():
        tasks = await collector.commands.poll_once()
        return await asyncio.gather(*tasks)

    return asyncio.run(go())


def ip_of(sim, vendor):
    return next(ip for ip, m in sim.miners.items() if m.model.vendor == vendor)


def ip_of_model(sim, key):
    return next(ip for ip, m in sim.miners.items() if m.model.key == key)


MODELS = ["S19", "M30S+", "A1246", "M60S"]  # Antminer, Whatsminer v2, Avalon, Whatsminer v3


@pytest.mark.parametrize("model", MODELS)
def test_sleep_then_wake_changes_what_the_miner_reports(rig, model):
    sim, receiver, collector = rig
    ip = ip_of_model(sim, model)
    [ack] = run_commands(collector, receiver, command(collector, ip, "sleep"))
    assert ack["status"] == "completed", ack
    assert ack["before"]["hashrate_ghs"] > 0 and ack["after"]["hashrate_ghs"] == 0
    assert sim.miners[ip].mode == "sleep"
    [ack] = run_commands(collector, receiver, command(collector, ip, "wake"))
    assert ack["status"] == "completed" and ack["after"]["hashrate_ghs"] > 0
    assert ack["duration_ms"] >= 0 and ack["verified"]
    assert [a["command_id"] for a in receiver.acks][-1] == ack["command_id"]


@pytest.mark.parametrize("model", MODELS)
def test_reboot_takes_the_miner_away_and_back(rig, model):
    sim, receiver, collector = rig
    ip = ip_of_model(sim, model)
    [ack] = run_commands(collector, receiver, command(collector, ip, "reboot"))
    assert ack["status"] == "completed", ack
    assert ack["after"]["uptime_s"] < ack["before"]["uptime_s"]


def test_work_mode_and_pool(rig):
    sim, receiver, collector = rig
    wm, am = ip_of(sim, "whatsminer"), ip_of(sim, "antminer")
    acks = run_commands(
        collector,
        receiver,
        command(collector, wm, "set_work_mode", params={"mode": "low"}),
        command(collector, am, "set_work_mode", params={"mode": "low"}),
    )
    assert [a["status"] for a in acks] == ["completed", "completed"]
    assert acks[0]["after"]["work_mode"] == "low" and sim.miners[am].mode == "low"
    url = "stratum+tcp://new.pool.example:3333"
    [ack] = run_commands(
        collector, receiver, command(collector, am, "set_pool", params={"url": url, "user": "u"})
    )
    assert ack["status"] == "completed" and ack["after"]["pool_url"] == url
    [ack] = run_commands(
        collector, receiver, command(collector, am, "set_work_mode", params={"mode": "high"})
    )
    assert ack["status"] == "failed" and ack["error_class"] == "unsupported"


def test_refusals_are_acknowledged_and_leave_the_miner_alone(rig):
    sim, receiver, collector = rig
    ip = ip_of(sim, "avalon")
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    first = command(collector, ip, "sleep", zone_id="")
    acks = run_commands(
        collector,
        receiver,
        command(collector, ip, "sleep", expires_at=past),
        command(collector, ip, "sleep", site_id="site-2"),
        command(collector, ip, "sleep", miner_key="mk_nobody"),
        command(collector, ip, "sleep", signature="c2lnbmVk"),
    )
    assert [(a["status"], a["error_class"]) for a in acks] == [
        ("rejected", "expired"),
        ("rejected", "site_mismatch"),
        ("rejected", "unknown_miner"),
        ("rejected", "bad_signature"),
    ]
    assert sim.miners[ip].mode == "normal"
    [done] = run_commands(collector, receiver, first)
    [again] = run_commands(collector, receiver, first)
    assert done["status"] == "completed"
    assert (again["status"], again["error_class"]) == ("duplicate", "duplicate")
    # Every refusal reached the server as an ack.
    assert len(receiver.acks) == 6


def test_unsigned_commands_are_refused_unless_allowed(rig):
    sim, receiver, collector = rig
    collector.config.commands.allow_unsigned = False
    [ack] = run_commands(collector, receiver, command(collector, ip_of(sim, "antminer"), "sleep"))
    assert (ack["status"], ack["error_class"]) == ("rejected", "unsigned")


def test_one_command_at_a_time_per_miner(rig):
    sim, receiver, collector = rig
    ip = ip_of(sim, "whatsminer")
    acks = run_commands(
        collector, receiver, command(collector, ip, "sleep"), command(collector, ip, "wake")
    )
    # The second waits for the next fetch instead of running alongside the first.
    assert acks[0]["status"] == "completed" and acks[1] is None


def test_undelivered_acks_are_kept_and_sent_later(rig):
    sim, receiver, collector = rig
    ip = ip_of(sim, "avalon")
    body = command(collector, ip, "sleep", expires_at="2000-01-01T00:00:00Z")
    port = receiver.port

    async def go():
        task = asyncio.create_task(collector.commands.handle(body))
        return await task

    receiver.stop()
    ack = asyncio.run(go())
    assert ack["error_class"] == "expired" and collector.spool.pending_acks()
    receiver.port = port
    receiver.start()
    asyncio.run(collector.commands.flush_acks())
    assert not collector.spool.pending_acks()
    assert receiver.acks[-1]["command_id"] == body["id"]


def test_whatsminer_v3_power_limit_pool_and_mode(rig):
    sim, receiver, collector = rig
    ip = ip_of_model(sim, "M60S")
    url = "stratum+tcp://v3.pool.example:3333"
    acks = run_commands(
        collector,
        receiver,
        command(collector, ip, "set_power_limit", params={"watts": 2800}),
    )
    assert acks[0]["status"] == "completed" and sim.miners[ip].power_limit == 2800
    [ack] = run_commands(
        collector, receiver, command(collector, ip, "set_pool", params={"url": url, "user": "w9"})
    )
    assert ack["status"] == "completed" and ack["after"]["pool_url"] == url
    assert sim.miners[ip].pools[0] == {"url": url, "user": "w9", "pass": "x"}
    [ack] = run_commands(
        collector, receiver, command(collector, ip, "set_work_mode", params={"mode": "low"})
    )
    assert ack["status"] == "completed" and sim.miners[ip].mode == "low"


def test_whatsminer_v3_with_a_wrong_password_fails_and_changes_nothing(rig):
    sim, receiver, collector = rig
    ip = ip_of_model(sim, "M60S")
    collector.config.credentials.whatsminer_v3_password = "wrong"
    [ack] = run_commands(
        collector, receiver, command(collector, ip, "set_power_limit", params={"watts": 2000})
    )
    assert (ack["status"], ack["error_class"]) == ("failed", "auth_failed")
    [ack] = run_commands(collector, receiver, command(collector, ip, "sleep"))
    assert (ack["status"], ack["error_class"]) == ("failed", "auth_failed")
    assert sim.miners[ip].power_limit != 2000 and sim.miners[ip].mode == "normal"


def test_avalon_pools_through_addpool_and_switchpool(rig):
    sim, receiver, collector = rig
    ip = ip_of_model(sim, "A1246")
    miner = sim.miners[ip]
    original = miner.pools[0]["url"]
    url = "stratum+tcp://new.pool.example:3333"
    # A comma in the worker name must survive cgminer's comma-separated parameter.
    [ack] = run_commands(
        collector,
        receiver,
        command(collector, ip, "set_pool", params={"url": url, "user": "acct,w1", "password": "p"}),
    )
    assert ack["status"] == "completed", ack
    assert ack["before"]["pool_url"] == original and ack["after"]["pool_url"] == url
    assert miner.pools[3] == {"url": url, "user": "acct,w1", "pass": "p"}
    assert miner.active_pool == 3
    # Setting a pool the miner already has switches to it instead of adding a duplicate.
    [ack] = run_commands(
        collector, receiver, command(collector, ip, "set_pool", params={"url": original})
    )
    assert ack["status"] == "completed" and len(miner.pools) == 4 and miner.active_pool == 0
    [ack] = run_commands(
        collector, receiver, command(collector, ip, "switch_pool", params={"index": 1})
    )
    assert ack["status"] == "completed" and miner.active_pool == 1
    assert ack["after"]["pool_url"] == miner.pools[1]["url"]
    [bad, missing] = run_commands(
        collector,
        receiver,
        command(collector, ip, "switch_pool", params={"index": 9}),
        command(collector, ip_of_model(sim, "S19"), "switch_pool", params={}),
    )
    assert (bad["status"], bad["error_class"]) == ("failed", "api_error")
    assert "Invalid pool id" in bad["message"] and miner.active_pool == 1
    assert (missing["status"], missing["error_class"]) == ("rejected", "invalid")
