"""Discovery on a loopback /24, the config file's validation, and the CLI commands."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time

import pytest

from edge_collector.cli import main
from edge_collector.config import ConfigError, build_config, load_config
from edge_collector.discovery import expand_targets, scan

from .conftest import free_port


def test_expand_targets():
    assert expand_targets(["10.0.0.0/30"]) == ["10.0.0.1", "10.0.0.2"]
    assert expand_targets(["10.0.0.5-10.0.0.7", "10.0.0.6"]) == ["10.0.0.5", "10.0.0.6", "10.0.0.7"]
    for bad, needle in [("10.0.0.x", "not an IPv4"), ("10.0.0.9-10.0.0.1", "ends before"),
                        ("10.0.0.0/8", "more than")]:  # fmt: skip
        with pytest.raises(ValueError, match=needle):
            expand_targets([bad])


def test_a_loopback_slash_24_yields_exactly_the_simulated_miners(make_farm):
    groups = [
        {"model": "S19", "count": 3},
        {"model": "M30S+", "count": 2, "start": None},
        {"model": "A1366", "count": 2},
        {"model": "S9", "count": 2, "absent": 0.5},
        # API v3 Whatsminers refuse 4028 and are found on 4433.
        {"model": "M60S", "count": 2},
    ]
    # Spread the miners over the block, leaving gaps.
    sim = make_farm({}, groups=[{k: v for k, v in g.items() if v is not None} for g in groups])
    block = sim.block
    # A host that accepts on 4028 and never answers must not stall or pollute the scan.
    hung = socket.socket()
    hung.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    hung.bind((f"{block}.200", 4028))
    hung.listen(8)
    try:
        found = asyncio.run(scan([f"{block}.0/24"], timeout=0.5, concurrency=64))
    finally:
        hung.close()
    present = {ip: m for ip, m in sim.miners.items() if not m.absent}
    assert {c.ip for c in found} == set(present)
    for candidate in found:
        miner = present[candidate.ip]
        assert candidate.vendor == miner.model.vendor
        assert candidate.model
    models = sorted(c.model for c in found)
    assert models.count("Antminer S19") == 3 and models.count("M30S+") == 2
    assert models.count("Avalon 1366") == 2 and models.count("Antminer S9") == 1
    v3 = [c for c in found if c.model == "M60S"]
    assert len(v3) == 2 and {c.protocol for c in v3} == {"btminer_v3"}
    assert all(c.vendor == "whatsminer" and c.serial and c.api_version == "3.0.2" for c in v3)


def test_config_errors_name_the_key(tmp_path):
    cases = [
        ({"poll": {"raw_interval_s": "fast"}}, r"\[poll\] raw_interval_s must be a number"),
        ({"poll": {"raw_interval_s": 0}}, r"\[poll\] raw_interval_s must be from 0.1"),
        ({"poll": {"rate": 1}}, r"unknown key \[poll\] rate"),
        ({"nope": {}}, r"unknown section \[nope\]"),
        ({"miners": {"targets": ["10.0.0.x"]}}, r"\[miners\] targets"),
        ({"server": {"url": "ftp://x"}}, r"\[server\] url must be an http"),
        ({"collector": {"shard_index": 2, "shard_total": 2}}, "shard_index must be below"),
        ({"commands": {"enabled": "yes"}}, r"\[commands\] enabled must be true or false"),
        ({"collector": {"log_format": "xml"}}, "must be one of text, json"),
    ]
    for data, pattern in cases:
        with pytest.raises(ConfigError, match=pattern):
            build_config(data)
    path = tmp_path / "edge.toml"
    path.write_text('[server]\nurl = "https://x.example"\ntoken_file = "token"\n')
    (tmp_path / "token").write_text("secret\n")
    assert load_config(path).server.device_token == "secret"
    path.write_text("[server\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


def _err(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("hashinsight-edge: error: ") and "\n" not in err
    return err


def test_cli_scan_and_probe(make_farm, capsys):
    sim = make_farm({"S19jPro": 1, "M50": 1})
    ips = sorted(sim.miners)
    assert main(["scan", f"{sim.block}.1-{sim.block}.5", "--json", "--timeout", "0.5"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [c["ip"] for c in lines] == ips
    assert main(["probe", ips[0]]) == 0
    assert "Antminer S19j Pro" in capsys.readouterr().out
    assert main(["probe", ips[1], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "M50"
    assert main(["probe", f"{sim.block}.99", "--timeout", "0.5"]) == 1
    assert "refused" in _err(capsys)
    assert main(["probe", "not-an-ip"]) == 1
    _err(capsys)


def test_cli_run_and_status_errors_are_one_line(tmp_path, capsys):
    assert main(["run", "--config", str(tmp_path / "missing.toml")]) == 1
    assert "cannot read" in _err(capsys)
    path = tmp_path / "edge.toml"
    path.write_text("[poll]\nraw_interval_s = -1\n")
    assert main(["run", "-c", str(path)]) == 1
    assert "[poll] raw_interval_s" in _err(capsys)
    path.write_text('[server]\nurl = "http://127.0.0.1:9"\n')
    assert main(["run", "-c", str(path)]) == 1
    assert "device_token" in _err(capsys)
    assert main(["status", "-c", str(path)]) == 1
    assert "no collector state" in _err(capsys)


def test_cli_run_once_then_status(make_farm, tmp_path, capsys):
    from .receiver import TOKEN, Receiver

    sim = make_farm({"A1246": 2})
    receiver = Receiver()
    path = tmp_path / "edge.json"
    path.write_text(
        json.dumps(
            {
                "server": {"url": receiver.url, "device_token": TOKEN, "site_id": "s"},
                "miners": {"targets": [f"{sim.block}.0/29"]},
            }
        )
    )
    try:
        assert main(["run", "-c", str(path), "--once"]) == 0
    finally:
        receiver.stop()
    assert len(receiver.records()) == 2
    capsys.readouterr()
    assert main(["status", "-c", str(path), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["miners_seen"] == 2 and status["miners_online"] == 2
    assert status["last_upload_at"] and status["spool_depth"] == {}


def test_cli_simulate_serves_then_stops_by_itself(tmp_path, capsys):
    from .conftest import loopback_block

    block = loopback_block()
    farm = tmp_path / "farm.toml"
    farm.write_text(
        f'[farm]\nhttp_port = {free_port()}\n\n[[miners]]\nmodel = "S19"\ncount = 2\n'
        f'start = "{block}.1"\n'
    )
    assert main(["simulate", str(farm), "--inventory", str(tmp_path / "inv.json")]) == 0
    assert len(json.loads((tmp_path / "inv.json").read_text())) == 2
    command = [sys.executable, "-m", "edge_collector.cli", "simulate", str(farm)]
    proc = subprocess.Popen(
        command + ["--duration", "30", "--processes", "2"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert "simulating 2 miners (2 processes)" in proc.stdout.readline()
        assert main(["probe", f"{block}.2"]) == 0
    finally:
        proc.terminate()
        proc.wait(20)
    time.sleep(0.2)
    # The children went with the parent: nothing listens any more.
    assert main(["probe", f"{block}.2", "--timeout", "0.5"]) == 1
    assert "refused" in _err(capsys)
    bad = tmp_path / "bad.toml"
    bad.write_text('[[miners]]\nmodel = "S77"\n')
    assert main(["simulate", str(bad)]) == 1
    assert "miners[0].model" in _err(capsys)
