from enum import StrEnum

from hashinsight_core.security import PermissionSpec


class PortalPermission(StrEnum):
    VIEW = "hosting:portal:view"


def permission_specs() -> list[PermissionSpec]:
    return [
        PermissionSpec(
            PortalPermission.VIEW,
            "Use the customer portal: own miners, alerts, tickets and e-mail choices",
            ("customer",),
        ),
    ]
