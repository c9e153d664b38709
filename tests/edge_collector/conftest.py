"""Fixtures for the edge collector: simulated farms on private loopback blocks.

Every farm gets its own random 127.A.B.0/24 block so parallel test workers (pytest -n) and
repeated runs never fight over an address; the HTTP (Antminer web) port is a free high port.
"""

from __future__ import annotations

import random
import socket

import pytest

from edge_collector.simulator import SimulatorThread, build_farm

_rng = random.SystemRandom()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def loopback_block() -> str:
    """A random /24 inside 127.100.0.0-127.250.255.0, returned as its .0 address prefix."""
    return f"127.{_rng.randint(100, 250)}.{_rng.randint(0, 255)}"


@pytest.fixture
def make_farm():
    """make_farm({"S19": 2, ...}, **farm_settings) -> a running SimulatorThread."""
    running: list[SimulatorThread] = []

    def start(models: dict[str, int], groups: list[dict] | None = None, **settings):
        block = loopback_block()
        settings.setdefault("http_port", free_port())
        settings.setdefault("ramp_s", 0.0)
        settings.setdefault("mode_change_s", 0.0)
        settings.setdefault("reboot_s", 1.0)
        settings.setdefault("board_fault_per_day", 0.0)
        if groups is None:
            groups = [{"model": model, "count": count} for model, count in models.items()]
        groups[0].setdefault("start", f"{block}.1")
        farm = build_farm({"farm": settings, "miners": groups})
        sim = SimulatorThread(farm)
        sim.__enter__()
        running.append(sim)
        sim.block = block
        sim.http_port = settings["http_port"]
        return sim

    yield start
    for sim in running:
        sim.close()
