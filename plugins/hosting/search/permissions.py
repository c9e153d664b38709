"""The quick search's own permission: seeing miners' IP addresses."""

from enum import StrEnum

from hashinsight_core.security import PermissionSpec


class SearchPermission(StrEnum):
    MINER_IP_READ = "hosting:miner:ip:read"


def permission_specs() -> list[PermissionSpec]:
    return [
        PermissionSpec(
            SearchPermission.MINER_IP_READ,
            "Find and see miners' IP addresses (only at sites whose credentials are masked)",
            ("admin", "operator"),
        )
    ]
