from enum import StrEnum

from hashinsight_core.security import PermissionSpec


class CurtailmentPermission(StrEnum):
    PRICE_READ = "curtailment:price:read"
    PRICE_WRITE = "curtailment:price:write"
    PLAN_READ = "curtailment:plan:read"


def permission_specs():
    return [
        PermissionSpec(
            CurtailmentPermission.PRICE_READ, "See power prices", ("admin", "operator", "viewer")
        ),
        PermissionSpec(CurtailmentPermission.PRICE_WRITE, "Add power prices", ("admin",)),
        PermissionSpec(
            CurtailmentPermission.PLAN_READ, "Plan when to switch miners off", ("admin", "operator")
        ),
    ]
