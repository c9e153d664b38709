"""A partner's plugin: a page, an API route, a model, a periodic task and a nav item."""


def includeme(config):
    config.add_route("partner_demo.note.list", "/partner-demo/notes/")
    config.add_route("partner_demo.api.note.count", "/api/v1/partner-demo/notes/count")
    config.scan("hashinsight_partner_demo.views")
