from enum import StrEnum

from hashinsight_core.security import PermissionSpec


class ControlplanePermission(StrEnum):
    COMMAND_READ = "controlplane:command:read"
    COMMAND_REQUEST = "controlplane:command:request"
    COMMAND_APPROVE = "controlplane:command:approve"
    COMMAND_CANCEL = "controlplane:command:cancel"
    POLICY_READ = "controlplane:policy:read"
    POLICY_EDIT = "controlplane:policy:edit"


def permission_specs():
    # Customers act on their own miners only: the data scope hides every other command and
    # miner from them, and an approval slot decides whose "yes" counts.
    return [
        PermissionSpec(
            ControlplanePermission.COMMAND_READ,
            "See remote commands",
            ("admin", "operator", "viewer", "customer"),
        ),
        PermissionSpec(
            ControlplanePermission.COMMAND_REQUEST,
            "Ask for a remote command",
            ("admin", "operator", "customer"),
        ),
        PermissionSpec(
            ControlplanePermission.COMMAND_APPROVE,
            "Approve or reject remote commands",
            ("admin", "operator", "customer"),
        ),
        PermissionSpec(
            ControlplanePermission.COMMAND_CANCEL,
            "Cancel a remote command",
            ("admin", "operator", "customer"),
        ),
        PermissionSpec(
            ControlplanePermission.POLICY_READ,
            "See a site's command rules",
            ("admin", "operator", "viewer"),
        ),
        PermissionSpec(
            ControlplanePermission.POLICY_EDIT, "Change a site's command rules", ("admin",)
        ),
    ]
