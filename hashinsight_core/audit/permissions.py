from __future__ import annotations

from enum import StrEnum

from hashinsight_core.security import PermissionSpec


class AuditPermission(StrEnum):
    READ = "core:audit:read"
    CHECKPOINT = "core:audit:checkpoint"


def permission_specs() -> list[PermissionSpec]:
    # Owners hold every permission; signing on demand is theirs alone.
    return [
        PermissionSpec(AuditPermission.READ, "Read and verify the audit log", ("admin",)),
        PermissionSpec(AuditPermission.CHECKPOINT, "Sign an audit checkpoint now", ()),
    ]
