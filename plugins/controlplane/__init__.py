"""Controlplane: remote commands to the miners of a site, with risk-based approvals, signed
dispatch to the edge devices of each zone, per-miner results and outcome checks.

See docs/controlplane.md for the flow, the states and the wire formats.
"""

from pyramid.exceptions import ConfigurationError


def includeme(config):
    from hashinsight_core.scoping import object_factory
    from plugins.controlplane.models import Command
    from plugins.controlplane.services import ack_timeout, command_ttl, outcome_window
    from plugins.controlplane.signing import load_signer
    from plugins.hosting.edge_views import DeviceContext
    from plugins.hosting.models import Site

    settings = config.get_settings()
    try:
        command_ttl(settings)
        ack_timeout(settings)
        outcome_window(settings)
    except ValueError as error:
        raise ConfigurationError(str(error)) from None
    config.registry["controlplane.signer"] = load_signer(settings)

    command = object_factory(Command, "command_id")
    site = object_factory(Site, "site_id")
    cid = "{command_id}"
    config.add_route("controlplane.command.list", "/controlplane/commands/")
    config.add_route(
        "controlplane.command.detail", f"/controlplane/commands/{cid}/", factory=command
    )
    for action in ("approve", "reject", "cancel", "retry"):
        config.add_route(
            f"controlplane.command.{action}",
            f"/controlplane/commands/{cid}/{action}/",
            factory=command,
        )
        config.add_route(
            f"controlplane.api.command.{action}",
            f"/api/v1/controlplane/commands/{cid}/{action}",
            factory=command,
        )
    config.add_route("controlplane.api.command.collection", "/api/v1/controlplane/commands")
    config.add_route(
        "controlplane.api.command.item", f"/api/v1/controlplane/commands/{cid}", factory=command
    )
    config.add_route(
        "controlplane.api.policy", "/api/v1/controlplane/sites/{site_id}/policy", factory=site
    )
    config.add_route("controlplane.api.signing_key", "/api/v1/controlplane/signing-key")

    # Device endpoints: a device token, never a user (hosting's route factory sees to that).
    device = DeviceContext
    config.add_route("controlplane.edge.poll", "/api/v1/edge/commands", factory=device)
    config.add_route(
        "controlplane.edge.ack", "/api/v1/edge/commands/{target_id}/ack", factory=device
    )
    config.add_route("controlplane.edge.legacy_poll", "/api/edge/v1/commands/poll", factory=device)
    config.add_route(
        "controlplane.edge.legacy_pending", "/api/collector/commands/pending", factory=device
    )
    config.add_route(
        "controlplane.edge.legacy_ack", "/api/edge/v1/commands/{target_id}/ack", factory=device
    )
    config.add_route(
        "controlplane.edge.legacy_result",
        "/api/collector/commands/{target_id}/result",
        factory=device,
    )
    config.add_static_view("static/controlplane", "plugins.controlplane:static", cache_max_age=3600)
    config.scan("plugins.controlplane.views")
    config.include("plugins.controlplane.portal")
    config.include("plugins.controlplane.portal_tickets")
    config.include("plugins.controlplane.remote")
    config.scan("plugins.controlplane.edge_views")
