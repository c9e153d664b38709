"""The miner simulator: a realistic farm of Antminer, Whatsminer and Avalon miners on loopback.

``hashinsight-edge simulate FARM.toml`` serves it; tests use ``SimulatorThread`` in-process.
"""

from edge_collector.simulator.farm import Farm, FarmError, build_farm, load_farm, simple_farm
from edge_collector.simulator.models import MODELS
from edge_collector.simulator.server import Simulator, SimulatorThread

__all__ = [
    "MODELS",
    "Farm",
    "FarmError",
    "Simulator",
    "SimulatorThread",
    "build_farm",
    "load_farm",
    "simple_farm",
]
