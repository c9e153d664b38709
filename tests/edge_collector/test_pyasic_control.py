"""Braiins OS, LuxOS and VNish are driven through pyasic's miner object, with the same
checks, verification from telemetry and acknowledgement as the native surfaces. pyasic's
``get_miner`` is replaced by a fake miner here: nothing touches the network."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from edge_collector.config import build_config
from edge_collector.poller import MinerInfo
from edge_collector.service import Collector
from edge_collector.vendors import Identity
from edge_collector.wire import MinerRecord, Pool, utc_now_iso

from .receiver import TOKEN, Receiver

pyasic = pytest.importorskip("pyasic")
from pyasic.device.firmware import MinerFirmware  # noqa: E402

IP = "127.77.0.9"


class FakeMiner:
    """Stands in for a pyasic miner object: records calls and changes its state like a
    miner would, so the collector's telemetry (patched below) shows the effect."""

    def __init__(self, firmware: MinerFirmware, *, refuse: bool = False) -> None:
        self.firmware = firmware
        self.refuse = refuse
        self.calls: list[tuple] = []
        self.mining = True
        self.power_limit = 3000
        self.pool = "stratum+tcp://old.example:3333"
        self.uptime = 50_000

    async def reboot(self) -> bool:
        self.calls.append(("reboot",))
        if not self.refuse:
            self.uptime = 5
        return not self.refuse

    async def stop_mining(self) -> bool:
        self.calls.append(("stop_mining",))
        self.mining = self.refuse
        return not self.refuse

    async def resume_mining(self) -> bool:
        self.calls.append(("resume_mining",))
        self.mining = True
        return not self.refuse

    async def set_power_limit(self, watts: int) -> bool:
        self.calls.append(("set_power_limit", watts))
        if not self.refuse:
            self.power_limit = watts
        return not self.refuse

    async def get_config(self):
        from pyasic.config import MinerConfig

        self.calls.append(("get_config",))
        return MinerConfig()

    async def send_config(self, config) -> None:
        self.calls.append(("send_config", config))
        self.pool = config.pools.groups[0].pools[0].url

    def record(self) -> MinerRecord:
        return MinerRecord(
            miner_key="mk_fake",
            timestamp=utc_now_iso(),
            online=True,
            vendor="unknown",
            hashrate_ghs=95_000.0 if self.mining else 0.0,
            hashrate_expected_ghs=95_000.0,
            power_limit_w=float(self.power_limit),
            uptime_s=self.uptime,
            pools=[Pool(index=0, url=self.pool, active=True)],
            pool_url=self.pool,
        )


@pytest.fixture
def rig(tmp_path, monkeypatch):
    receiver = Receiver()
    config = build_config(
        {
            "server": {"url": receiver.url, "device_token": TOKEN, "site_id": "site-1"},
            "collector": {"state_dir": str(tmp_path / "state")},
            "miners": {"targets": [IP]},
            "commands": {
                "enabled": True,
                "allow_unsigned": True,
                "verify_interval_s": 0.02,
                "verify_timeout_s": 1,
            },
        }
    )
    collector = Collector(config)
    state = {"miner": FakeMiner(MinerFirmware.BRAIINS_OS), "get_miner": []}

    async def get_miner(ip):
        state["get_miner"].append(ip)
        return state["miner"]

    async def poll(info, *, latest=False):
        # The miner's 4028 telemetry, as the generic parser would read it.
        return state["miner"].record() if state["miner"] else MinerRecord("mk_fake", "", False)

    monkeypatch.setattr(pyasic, "get_miner", get_miner)
    monkeypatch.setattr(collector.poller, "poll", poll)

    def adopt(hint: str) -> None:
        info = MinerInfo(IP, "mk_fake", identity=Identity(model="S19", hint=hint))
        collector.infos = {IP: info}

    adopt("braiins")
    state["adopt"] = adopt
    yield state, receiver, collector
    receiver.stop()
    collector.spool.close()


_ids = iter(range(1, 10_000))


def run(collector, action, **params):
    body = {
        "id": f"py-{next(_ids)}",
        "site_id": "site-1",
        "miner_key": "mk_fake",
        "action": action,
        "params": params,
        "expires_at": (datetime.now(UTC) + timedelta(minutes=5)).isoformat(),
    }
    return asyncio.run(collector.commands.handle(body))


@pytest.mark.parametrize(
    ("hint", "firmware"),
    [
        ("braiins", MinerFirmware.BRAIINS_OS),
        ("luxos", MinerFirmware.LUXOS),
        ("vnish", MinerFirmware.VNISH),
    ],
)
def test_each_action_goes_through_pyasic_and_is_verified(rig, hint, firmware):
    state, receiver, collector = rig
    state["adopt"](hint)
    miner = state["miner"] = FakeMiner(firmware)
    ack = run(collector, "sleep")
    assert (ack["status"], ack["verified"]) == ("completed", True)
    assert ack["before"]["hashrate_ghs"] > 0 and ack["after"]["hashrate_ghs"] == 0
    assert run(collector, "wake")["status"] == "completed" and miner.mining
    assert run(collector, "set_power_limit", watts=2500)["status"] == "completed"
    url = "stratum+tcp://new.example:3333"
    ack = run(collector, "set_pool", url=url, user="acct.w1", password="x")
    assert ack["status"] == "completed" and ack["after"]["pool_url"] == url
    assert run(collector, "reboot")["status"] == "completed"
    names = [call[0] for call in miner.calls]
    assert names == [
        "stop_mining", "resume_mining", "set_power_limit", "get_config", "send_config", "reboot",
    ]  # fmt: skip
    assert miner.calls[2] == ("set_power_limit", 2500)
    pool = miner.calls[4][1].pools.groups[0].pools[0]
    assert (pool.url, pool.user) == (url, "acct.w1")
    assert state["get_miner"] == [IP] * 5
    assert [a["status"] for a in receiver.acks] == ["completed"] * 5


def test_a_refusal_from_pyasic_is_a_failed_ack(rig):
    state, receiver, collector = rig
    state["miner"] = FakeMiner(MinerFirmware.BRAIINS_OS, refuse=True)
    ack = run(collector, "sleep")
    assert (ack["status"], ack["error_class"]) == ("failed", "api_error")
    assert "refused" in ack["message"]


def test_a_miner_pyasic_sees_differently_is_left_alone(rig):
    state, receiver, collector = rig
    state["miner"] = FakeMiner(MinerFirmware.VNISH)  # discovery said Braiins OS
    ack = run(collector, "reboot")
    assert (ack["status"], ack["error_class"]) == ("failed", "unsupported")
    assert state["miner"].calls == []


def test_a_miner_pyasic_cannot_identify_is_unsupported(rig):
    state, receiver, collector = rig
    miner = state["miner"]
    state["miner"] = None

    async def poll(info, *, latest=False):
        return miner.record()

    collector.poller.poll = poll
    ack = run(collector, "sleep")
    assert (ack["status"], ack["error_class"]) == ("failed", "unsupported")
    assert miner.calls == []


def test_an_unknown_work_mode_is_refused_before_sending(rig):
    state, receiver, collector = rig
    ack = run(collector, "set_work_mode", mode="turbo")
    assert (ack["status"], ack["error_class"]) == ("failed", "invalid")
    assert all(call[0] != "send_config" for call in state["miner"].calls)
