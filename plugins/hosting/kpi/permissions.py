"""Permissions of the KPI part: reading KPIs and recording excused events."""

from enum import StrEnum

from hashinsight_core.security import PermissionSpec


class KpiPermission(StrEnum):
    KPI_READ = "hosting:kpi:read"
    # Record, edit and delete excused events of any kind (curtailment, maintenance, …).
    EXCUSED_WRITE = "hosting:excused:write"
    # Reach the write routes at all: staff with EXCUSED_WRITE record any event; a customer
    # account only a "customer pause" of its own miners (the service checks which).
    EXCUSED_PAUSE = "hosting:excused:pause"


def permission_specs() -> list[PermissionSpec]:
    return [
        PermissionSpec(
            KpiPermission.KPI_READ,
            "See KPIs and excused events (customers: about their own miners)",
            ("admin", "operator", "viewer", "customer"),
        ),
        PermissionSpec(
            KpiPermission.EXCUSED_WRITE,
            "Record, edit and delete excused events (curtailment, maintenance, outages)",
            ("admin", "operator"),
        ),
        PermissionSpec(
            KpiPermission.EXCUSED_PAUSE,
            "Record excused events (customers: a pause of their own miners only)",
            ("admin", "operator", "customer"),
        ),
    ]
