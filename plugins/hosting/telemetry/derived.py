"""Derived figures, as plain functions (no database): every one answers ``None`` when it is
undefined (nothing to divide by) rather than a misleading 0."""

from __future__ import annotations


def _ratio(part: float | None, whole: float | None) -> float | None:
    if part is None or not whole:
        return None
    return part / whole


def reachable_uptime(online_samples: int | None, samples: int | None) -> float | None:
    """Share of polls the miner answered (0..1)."""
    return _ratio(online_samples, samples)


def hashing_uptime(hashing_samples: int | None, samples: int | None) -> float | None:
    """Share of polls the miner answered *and* was hashing (0..1); at most reachable uptime."""
    return _ratio(hashing_samples, samples)


def realized_ratio(hashrate_ths: float | None, nominal_ths: float | None) -> float | None:
    """Realized hashrate over nameplate (1.0 = as rated)."""
    return _ratio(hashrate_ths, nominal_ths)


def joules_per_th(power_w: float | None, hashrate_ths: float | None) -> float | None:
    """Efficiency: W / (TH/s) = J/TH."""
    return _ratio(power_w, hashrate_ths)


def energy_kwh(power_w: float | None, seconds: float) -> float:
    """Energy of drawing ``power_w`` for ``seconds``."""
    return (power_w or 0.0) * seconds / 3_600_000


def with_derived(row: dict) -> dict:
    """Add the derived figures an aggregate row (5-minute, daily or fleet) supports."""
    row["reachable_uptime"] = reachable_uptime(row.get("online_samples"), row.get("samples"))
    row["hashing_uptime"] = hashing_uptime(row.get("hashing_samples"), row.get("samples"))
    row["realized_ratio"] = realized_ratio(row.get("hashrate_avg_ths"), row.get("nominal_ths"))
    row["j_per_th"] = joules_per_th(row.get("power_avg_w"), row.get("hashrate_avg_ths"))
    return row
