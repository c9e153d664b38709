from pyramid.view import view_config

from hashinsight_core.exceptions import DomainError
from hashinsight_core.openapi import paginate
from plugins.calculator import services
from plugins.calculator.models import AsicModel
from plugins.calculator.permissions import CalculatorPermission

TEMPLATE = "plugins.calculator:templates/calculator/calculator.jinja2"


def format_number(value, min_decimals: int, max_decimals: int) -> str:
    """Thousands separators, at most ``max_decimals`` and at least ``min_decimals`` decimals
    (the page's script formats the same way with Intl.NumberFormat)."""
    if value is None:
        return "—"
    text = f"{value:,.{max_decimals}f}"
    if max_decimals > min_decimals:
        whole, _, decimals = text.partition(".")
        decimals = decimals.rstrip("0").ljust(min_decimals, "0")
        text = f"{whole}.{decimals}" if decimals else whole
    if text.startswith("-") and float(text[1:].replace(",", "")) == 0:
        text = text[1:]  # a tiny loss rounds to 0, not to "-0.00"
    return text


@view_config(
    route_name="calculator.estimate.page",
    renderer=TEMPLATE,
    request_method="GET",
    permission=CalculatorPermission.ESTIMATE_RUN,
)
def calculator_page(request):
    models = services.list_models(request.dbsession)
    result, error = None, None
    form, is_example = dict(services.EXAMPLE_INPUT, preset=""), True
    try:
        form, is_example = services.form_from_query(request.GET, models)
        result = services.estimate(services.parse_form(form))
    except DomainError as exc:
        request.response.status_int = exc.status
        error = exc
        if exc.field == "preset":
            form = {field: request.GET.get(field, "") for field in services.FIELDS}
            form["preset"] = ""
            is_example = False
    return {
        "models": models,
        "form": form,
        "is_example": is_example,
        "result": result,
        "error": error,
        "fmt": format_number,
    }


@view_config(
    route_name="calculator.api.estimate",
    request_method="POST",
    renderer="json",
    openapi=True,
    permission=CalculatorPermission.ESTIMATE_RUN,
)
def api_estimate(request):
    return services.estimate(request.openapi.body)


@view_config(
    route_name="calculator.api.model.collection",
    request_method="GET",
    renderer="json",
    openapi=True,
    permission=CalculatorPermission.MODEL_READ,
)
def api_model_list(request):
    return paginate(request, services.model_query(), AsicModel.as_dict)
