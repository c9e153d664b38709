from __future__ import annotations

from enum import StrEnum

from hashinsight_core.security import PermissionSpec


class CorePermission(StrEnum):
    HOME_VIEW = "core:home:view"
    API_DOCS_VIEW = "core:api:read"
    HEALTH_VIEW = "core:health:read"
    USERS_MANAGE = "core:user:manage"
    ACCOUNT_VIEW = "core:account:manage"
    ROLES_MANAGE = "core:role:manage"
    MARKET_READ = "core:market:read"
    MARKET_OVERRIDE = "core:market:override"
    SEARCH = "core:search:use"


def permission_specs() -> list[PermissionSpec]:
    everyone = ("anonymous", "owner", "admin", "operator", "customer", "viewer")
    return [
        PermissionSpec(CorePermission.HOME_VIEW, "See the home page", everyone),
        PermissionSpec(CorePermission.API_DOCS_VIEW, "Read the API documentation", everyone),
        PermissionSpec(CorePermission.HEALTH_VIEW, "See health and readiness", everyone),
        PermissionSpec(CorePermission.USERS_MANAGE, "Create and edit accounts", ("owner", "admin")),
        PermissionSpec(CorePermission.ROLES_MANAGE, "Make and edit custom roles (owners)", ()),
        # The public calculator shows the market figures, so everyone may read them.
        PermissionSpec(CorePermission.MARKET_READ, "See market data and its history", everyone),
        PermissionSpec(
            CorePermission.MARKET_OVERRIDE,
            "Override market figures and refresh them",
            ("owner", "admin"),
        ),
        # Everyone signed in; what each finds is limited by its other permissions and scope.
        PermissionSpec(
            CorePermission.SEARCH,
            "Use the quick search",
            ("owner", "admin", "operator", "customer", "viewer"),
        ),
        PermissionSpec(
            CorePermission.ACCOUNT_VIEW,
            "See and change one's own account",
            ("owner", "admin", "operator", "customer", "viewer"),
        ),
    ]
