"""Curtailment: hourly power prices per site and which hours to switch the miners off.

Now: prices (entered, pasted as CSV or sent through the API) and a plan that curtails every
hour priced above the fleet's breakeven. Next: automatic curtailment and choosing which
miners to switch off first.
"""


def includeme(config):
    config.add_route("curtailment.price.list", "/curtailment/")
    config.add_route("curtailment.api.price.collection", "/api/v1/curtailment/prices")
    config.add_route("curtailment.api.plan.create", "/api/v1/curtailment/plan")
    config.scan("plugins.curtailment.views")
