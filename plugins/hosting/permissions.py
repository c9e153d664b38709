from enum import StrEnum

from hashinsight_core.security import ANONYMOUS, PermissionSpec


class HostingPermission(StrEnum):
    SITE_READ = "hosting:site:read"
    SITE_WRITE = "hosting:site:write"
    MINER_READ = "hosting:miner:read"
    MINER_WRITE = "hosting:miner:write"
    MINER_IMPORT = "hosting:miner:import"
    DEVICE_READ = "hosting:device:read"
    DEVICE_WRITE = "hosting:device:write"
    DISCOVERY_ADOPT = "hosting:discovery:adopt"
    ALERT_READ = "hosting:alert:read"
    ALERT_ACK = "hosting:alert:ack"
    ALERT_RULE_MANAGE = "hosting:alert_rule:manage"
    # Edge endpoints: no user is involved; the view checks the device token itself (and a
    # device token never opens a user route).
    EDGE_UPLOAD = "hosting:edge:upload"


def permission_specs():
    return [
        PermissionSpec(
            HostingPermission.SITE_READ,
            "See sites and zones (customers: those holding their miners)",
            ("admin", "operator", "viewer", "customer"),
        ),
        PermissionSpec(HostingPermission.SITE_WRITE, "Create and edit sites and zones", ("admin",)),
        PermissionSpec(
            HostingPermission.MINER_READ,
            "See miners and their history (customers: their own)",
            ("admin", "operator", "viewer", "customer"),
        ),
        PermissionSpec(
            HostingPermission.MINER_WRITE,
            "Add miners, move them, change their status",
            ("admin", "operator"),
        ),
        PermissionSpec(
            HostingPermission.MINER_IMPORT, "Import miners from CSV or Excel files", ("admin",)
        ),
        PermissionSpec(HostingPermission.DEVICE_READ, "See edge devices", ("admin", "operator")),
        PermissionSpec(
            HostingPermission.DEVICE_WRITE,
            "Register edge devices, rotate and revoke their tokens",
            ("admin",),
        ),
        PermissionSpec(
            HostingPermission.DISCOVERY_ADOPT,
            "Adopt or ignore miners found by edge devices",
            ("admin", "operator"),
        ),
        PermissionSpec(
            HostingPermission.ALERT_READ,
            "See alerts and alert rules (customers: about their own miners)",
            ("admin", "operator", "viewer", "customer"),
        ),
        PermissionSpec(
            HostingPermission.ALERT_ACK,
            "Acknowledge and resolve alerts",
            ("admin", "operator"),
        ),
        PermissionSpec(
            HostingPermission.ALERT_RULE_MANAGE,
            "Create, edit and delete alert rules and their notifications",
            ("admin",),
        ),
        PermissionSpec(
            HostingPermission.EDGE_UPLOAD,
            "Edge device endpoints (authenticated by the device token)",
            (ANONYMOUS,),
        ),
    ]
