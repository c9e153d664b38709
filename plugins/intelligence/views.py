import json

from markupsafe import Markup
from pyramid.view import view_config

from hashinsight_core.exceptions import DomainError
from plugins.intelligence import services
from plugins.intelligence.permissions import IntelligencePermission

TEMPLATE = "plugins.intelligence:templates/intelligence/indicators.jinja2"


def format_value(value) -> str:
    """Prices of any size: cents for big ones, six significant digits for small ones."""
    if value is None:
        return "—"
    if abs(value) >= 1000:
        return f"{value:,.2f}"
    return f"{value:,.6g}"


def chart_json(closes: list[float], computed: dict) -> Markup:
    """The chart's data for a <script type="application/json"> block (never executed)."""
    data = {
        "labels": list(range(1, len(closes) + 1)),
        "close": closes,
        **{name: computed[name] for name in services.SERIES},
    }
    text = json.dumps(data, allow_nan=False, separators=(",", ":")).replace("<", "\\u003c")
    return Markup(text)  # noqa: S704 - JSON with "<" escaped cannot close the script tag


def page(form: dict, result=None, error=None, closes=None) -> dict:
    return {
        "form": form,
        "error": error,
        "result": result,
        "rows": services.table_rows(closes, result) if result else [],
        "chart_data": chart_json(closes, result) if result else None,
        "fmt": format_value,
    }


@view_config(
    route_name="intelligence.indicator.page",
    renderer=TEMPLATE,
    request_method="GET",
    permission=IntelligencePermission.INDICATOR_READ,
)
def indicator_page(request):
    return page({"closes": "", "window": str(services.DEFAULT_WINDOW)})


@view_config(
    route_name="intelligence.indicator.page",
    renderer=TEMPLATE,
    request_method="POST",
    permission=IntelligencePermission.INDICATOR_READ,
)
def indicator_form(request):
    form = {"closes": request.POST.get("closes", ""), "window": request.POST.get("window", "")}
    try:
        closes = services.parse_closes(form["closes"])
        result = services.compute(closes, services.parse_window(form["window"]))
    except DomainError as error:
        request.response.status_int = error.status
        return page(form, error=error)
    return page(form, result=result, closes=closes)


@view_config(
    route_name="intelligence.api.indicators",
    request_method="POST",
    renderer="json",
    openapi=True,
    permission=IntelligencePermission.INDICATOR_READ,
)
def api_indicators(request):
    body = request.openapi.body
    return services.compute(body["closes"], body["window"])
