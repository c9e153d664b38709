from enum import StrEnum

from hashinsight_core.security import PermissionSpec


class TreasuryPermission(StrEnum):
    ENTRY_READ = "treasury:entry:read"
    ENTRY_WRITE = "treasury:entry:write"


def permission_specs():
    return [
        PermissionSpec(TreasuryPermission.ENTRY_READ, "See the BTC inventory", ("admin", "viewer")),
        PermissionSpec(TreasuryPermission.ENTRY_WRITE, "Add BTC inventory entries", ("admin",)),
    ]
