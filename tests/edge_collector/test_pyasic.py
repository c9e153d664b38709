"""Third-party tools written for real miners work against the simulator unchanged: pyasic
identifies a simulated S19 and reads its data (RPC only; its web probe uses port 80)."""

from __future__ import annotations

import asyncio

import pytest

pyasic = pytest.importorskip("pyasic")


def test_pyasic_identifies_and_reads_a_simulated_s19(make_farm):
    sim = make_farm({"S19": 1})
    ip = next(iter(sim.miners))

    async def go():
        miner = await pyasic.get_miner(ip)
        data = await miner.get_data()
        return miner, data

    miner, data = asyncio.run(go())
    assert "S19" in type(miner).__name__
    assert 85 < float(data.hashrate) < 105 and float(data.expected_hashrate) == 95
    assert len(data.fans) == 4 and data.pools[0].url
