"""Permissions of the tickets and the repair log, with their default role grants."""

from enum import StrEnum

from hashinsight_core.security import PermissionSpec


class TicketPermission(StrEnum):
    READ = "hosting:ticket:read"
    OPEN = "hosting:ticket:open"
    MANAGE = "hosting:ticket:manage"
    REPAIR_WRITE = "hosting:repair:write"


def permission_specs() -> list[PermissionSpec]:
    return [
        PermissionSpec(
            TicketPermission.READ,
            "See tickets and repair logs (customers: their own)",
            ("admin", "operator", "viewer", "customer"),
        ),
        PermissionSpec(
            TicketPermission.OPEN,
            "Open tickets and comment on them (customers: about their own miners)",
            ("admin", "operator", "customer"),
        ),
        PermissionSpec(
            TicketPermission.MANAGE,
            "Work on tickets: status, assignment, internal notes, bulk actions",
            ("admin", "operator"),
        ),
        PermissionSpec(
            TicketPermission.REPAIR_WRITE,
            "Record part swaps, repairs and RMAs (moves the miner's status)",
            ("admin", "operator"),
        ),
    ]
