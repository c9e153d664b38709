from enum import StrEnum

from hashinsight_core.security import PermissionSpec

# The calculator is public: visitors use it before they have an account.
EVERYONE = ("anonymous", "admin", "operator", "customer", "viewer")


class CalculatorPermission(StrEnum):
    ESTIMATE_RUN = "calculator:estimate:run"
    MODEL_READ = "calculator:model:read"
    MODEL_MANAGE = "calculator:model:manage"


def permission_specs():
    return [
        PermissionSpec(
            CalculatorPermission.ESTIMATE_RUN, "Use the profitability calculator", EVERYONE
        ),
        PermissionSpec(CalculatorPermission.MODEL_READ, "See the miner model catalogue", EVERYONE),
        # The owner holds every permission; admins keep the catalogue.
        PermissionSpec(
            CalculatorPermission.MODEL_MANAGE,
            "Add, edit, deactivate, import and export miner models",
            ("admin",),
        ),
    ]
