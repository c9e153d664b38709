from enum import StrEnum

from hashinsight_core.security import ANONYMOUS, PermissionSpec


class BrandPermission(StrEnum):
    MANAGE = "hosting:brand:manage"
    # Logos and favicons: the login page shows them before anyone signs in.
    ASSET_READ = "hosting:brand_asset:read"


def permission_specs() -> list[PermissionSpec]:
    return [
        PermissionSpec(
            BrandPermission.MANAGE,
            "Create and edit brands, their host names, images and customers",
            ("admin",),
        ),
        PermissionSpec(BrandPermission.ASSET_READ, "See brand logos and icons", (ANONYMOUS,)),
    ]
