"""The simulated models: nominal figures and each firmware's quirks."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ModelSpec:
    key: str
    vendor: str  # "antminer" | "whatsminer" | "avalon"
    name: str  # what the firmware calls itself (Antminer "Type", Avalon "PROD")
    nominal_ths: float
    power_w: float
    boards: int
    chips: int  # per board
    fans: int
    temp_rise_c: float  # chip temperature above ambient at full load
    joins: bool  # does the firmware accept '+'-joined report commands?
    firmware: str
    api: str = "3.7"
    string_numbers: bool = False  # old bmminer prints hashrates as strings
    missing_stats_comma: bool = False  # old bmminer's ``}{`` between STATS records
    detail_model: str = ""  # Whatsminer devdetails "Model" (API v3: get.device.info miner.type)
    api_v3: bool = False  # Whatsminer API v3 on 4433 only (4028 closed), firmware from 2024 on
    fan_min: int = 1500
    fan_max: int = 6000


MODELS: dict[str, ModelSpec] = {
    spec.key: spec
    for spec in (
        ModelSpec(
            "S19",
            "antminer",
            "Antminer S19",
            95.0,
            3250,
            3,
            76,
            4,
            38,
            False,
            "Fri Dec 11 11:15:40 CST 2020",
            api="3.1",
        ),
        ModelSpec(
            "S19jPro",
            "antminer",
            "Antminer S19j Pro",
            104.0,
            3068,
            3,
            126,
            4,
            36,
            False,
            "Mon Jul 19 18:01:37 CST 2021",
            api="3.1",
        ),
        ModelSpec(
            "S19XP",
            "antminer",
            "Antminer S19 XP",
            140.0,
            3010,
            3,
            110,
            4,
            35,
            False,
            "Thu Sep  8 10:25:12 CST 2022",
            api="3.1",
        ),
        ModelSpec(
            "S9",
            "antminer",
            "Antminer S9",
            14.0,
            1323,
            3,
            63,
            2,
            40,
            True,
            "Fri Nov 17 17:37:49 CST 2017",
            api="3.1",
            string_numbers=True,
            missing_stats_comma=True,
            fan_min=2000,
            fan_max=6000,
        ),
        ModelSpec(
            "M30S+",
            "whatsminer",
            "Whatsminer M30S+",
            100.0,
            3400,
            3,
            111,
            2,
            40,
            True,
            "20220208.22.Rel",
            detail_model="M30S+_VE40",
        ),
        ModelSpec(
            "M50",
            "whatsminer",
            "Whatsminer M50",
            114.0,
            3306,
            3,
            105,
            2,
            38,
            True,
            "20230518.15.Rel",
            detail_model="M50_VH50",
        ),
        ModelSpec(
            "M60S",
            "whatsminer",
            "Whatsminer M60S",
            186.0,
            3441,
            3,
            156,
            2,
            36,
            False,
            "20250915.16.Rel2",
            api="3.0.2",
            detail_model="M60S_VK30",
            api_v3=True,
        ),
        ModelSpec(
            "A1246",
            "avalon",
            "AvalonMiner 1246",
            90.0,
            3420,
            3,
            120,
            4,
            40,
            True,
            "21042001_4ec6bb0_61407fa",
        ),
        ModelSpec(
            "A1366",
            "avalon",
            "AvalonMiner 1366",
            130.0,
            3250,
            3,
            120,
            4,
            38,
            True,
            "23072001_8d2f4a7_b1c8e0e",
        ),
    )
}

# How a work mode scales hashrate and power, per vendor's documented modes.
MODE_FACTORS: dict[str, tuple[float, float]] = {
    "normal": (1.0, 1.0),
    "low": (0.78, 0.7),
    "high": (1.1, 1.15),
    "sleep": (0.0, 0.006),
}
