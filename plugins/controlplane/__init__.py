"""Controlplane: remote commands to the miners of a site, and the record of each one.

Now: the command state machine, requesting / listing / cancelling commands and expiring the
ones nobody carried out in time. Next: dual approval, signing and dispatch to edge devices.
"""

from pyramid.exceptions import ConfigurationError


def includeme(config):
    from plugins.controlplane.services import command_ttl

    try:
        command_ttl(config.get_settings())
    except ValueError as error:
        raise ConfigurationError(str(error)) from None

    config.add_route("controlplane.command.list", "/controlplane/commands/")
    config.add_route(
        "controlplane.command.cancel", "/controlplane/commands/{command_id:\\d+}/cancel/"
    )
    config.add_route("controlplane.api.command.collection", "/api/v1/controlplane/commands")
    config.add_route(
        "controlplane.api.command.cancel", "/api/v1/controlplane/commands/{command_id:\\d+}/cancel"
    )
    config.add_static_view("static/controlplane", "plugins.controlplane:static", cache_max_age=3600)
    config.scan("plugins.controlplane.views")
