"""Intelligence: market analysis. Technical indicators now; forecasts and anomalies next."""


def includeme(config):
    # Imported here, not at the top: the pure module of this package (indicators) must be
    # importable without Pyramid.
    from pyramid.i18n import TranslationStringFactory

    _ = TranslationStringFactory("hashinsight")
    config.add_route("intelligence.indicator.page", "/intelligence/")
    config.add_route("intelligence.api.indicators", "/api/v1/intelligence/indicators")
    config.add_static_view("static/intelligence", "plugins.intelligence:static", cache_max_age=3600)
    # Chart legends drawn by static/intelligence.js.
    config.add_client_strings(
        [
            _("Closing price"),
            _("SMA"),
            _("EMA"),
            _("RSI"),
            _("Upper band"),
            _("Lower band"),
        ]
    )
    config.scan("plugins.intelligence.views")
