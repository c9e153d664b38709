from enum import StrEnum

from hashinsight_core.security import PermissionSpec


class ControlplanePermission(StrEnum):
    COMMAND_READ = "controlplane:command:read"
    COMMAND_REQUEST = "controlplane:command:request"
    COMMAND_CANCEL = "controlplane:command:cancel"


def permission_specs():
    return [
        PermissionSpec(
            ControlplanePermission.COMMAND_READ,
            "See remote commands",
            ("admin", "operator", "viewer"),
        ),
        PermissionSpec(
            ControlplanePermission.COMMAND_REQUEST,
            "Ask for a remote command",
            ("admin", "operator"),
        ),
        PermissionSpec(
            ControlplanePermission.COMMAND_CANCEL, "Cancel a remote command", ("admin", "operator")
        ),
    ]
