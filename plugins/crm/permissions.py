from enum import StrEnum

from hashinsight_core.security import PermissionSpec


class CrmPermission(StrEnum):
    CUSTOMER_READ = "crm:customer:read"
    CUSTOMER_WRITE = "crm:customer:write"


def permission_specs():
    return [
        PermissionSpec(
            CrmPermission.CUSTOMER_READ, "See customers", ("admin", "operator", "viewer")
        ),
        PermissionSpec(CrmPermission.CUSTOMER_WRITE, "Add and edit customers", ("admin",)),
    ]
