from enum import StrEnum

from hashinsight_core.security import PermissionSpec


class IntelligencePermission(StrEnum):
    INDICATOR_READ = "intelligence:indicator:read"


def permission_specs():
    return [
        PermissionSpec(
            IntelligencePermission.INDICATOR_READ,
            "Run price indicators (SMA, EMA, RSI, Bollinger bands)",
            ("admin", "operator", "viewer", "customer"),
        ),
    ]
