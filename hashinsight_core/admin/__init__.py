"""Account administration pages (owners and admins) and everyone's own account page."""


def includeme(config):
    config.add_route("core.admin.user.list", "/admin/users/")
    config.add_route("core.admin.user.edit", "/admin/users/{user_id:\\d+}/")
    config.add_route(
        "core.admin.user.action",
        "/admin/users/{user_id:\\d+}/{action:reset|end-sessions|reset-mfa}",
    )
    config.add_route("core.admin.user.membership", "/admin/users/{user_id:\\d+}/places")
    config.add_route("core.admin.role.list", "/admin/roles/")
    config.add_route("core.admin.role.edit", "/admin/roles/{name}/")
    config.add_route("core.account", "/account/")
    config.add_route("core.account.mfa", "/account/two-step/")
    config.add_route("core.account.token.create", "/account/tokens/")
    config.add_route("core.account.token.revoke", "/account/tokens/{token_id:\\d+}/revoke")
    config.scan("hashinsight_core.admin.views")
