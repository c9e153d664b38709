from enum import StrEnum

from hashinsight_core.security import PermissionSpec

# The calculator is public: visitors use it before they have an account.
EVERYONE = ("anonymous", "admin", "operator", "customer", "viewer")


class CalculatorPermission(StrEnum):
    ESTIMATE_RUN = "calculator:estimate:run"
    MODEL_READ = "calculator:model:read"


def permission_specs():
    return [
        PermissionSpec(
            CalculatorPermission.ESTIMATE_RUN, "Use the profitability calculator", EVERYONE
        ),
        PermissionSpec(CalculatorPermission.MODEL_READ, "See the miner model catalogue", EVERYONE),
    ]
