from enum import StrEnum

from hashinsight_core.security import PermissionSpec


class HostingPermission(StrEnum):
    SITE_READ = "hosting:site:read"
    SITE_WRITE = "hosting:site:write"


def permission_specs():
    return [
        PermissionSpec(HostingPermission.SITE_READ, "See sites", ("admin", "operator", "viewer")),
        PermissionSpec(HostingPermission.SITE_WRITE, "Create and edit sites", ("admin",)),
    ]
