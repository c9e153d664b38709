import datetime as dt
import json

import sqlalchemy as sa
from markupsafe import Markup
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.response import Response
from pyramid.view import exception_view_config, view_config

from hashinsight_core.exceptions import DomainError, InvalidInput
from hashinsight_core.openapi import paginate
from plugins.calculator import batch, catalogue, form, services
from plugins.calculator.models import COOLING_TYPES, AsicModel
from plugins.calculator.permissions import CalculatorPermission

_ = TranslationStringFactory("hashinsight")
TEMPLATE = "plugins.calculator:templates/calculator/calculator.jinja2"
BATCH = "plugins.calculator:templates/calculator/batch.jinja2"
MODELS = "plugins.calculator:templates/calculator/models.jinja2"
MODEL = "plugins.calculator:templates/calculator/model.jinja2"
IMPORT = "plugins.calculator:templates/calculator/models_import.jinja2"
PAGE_SIZE = 25
BLANK_MODE_ROWS = 3  # empty rows under a model's modes, to add new ones without a script


def add_catalogue_routes(config):
    """The catalogue's admin pages and JSON item route (the collection route is older)."""
    config.add_route("calculator.model.list", "/calculator/models/")
    config.add_route("calculator.model.create", "/calculator/models/new/")
    config.add_route("calculator.model.import", "/calculator/models/import/")
    config.add_route("calculator.model.export", "/calculator/models/export.csv")
    config.add_route("calculator.model.seed", "/calculator/models/seed/")
    config.add_route("calculator.model.edit", "/calculator/models/{model_id:\\d+}/")
    config.add_route("calculator.model.status", "/calculator/models/{model_id:\\d+}/status/")
    config.add_route("calculator.api.model.item", "/api/v1/calculator/models/{model_id:\\d+}")


def format_number(value, min_decimals: int, max_decimals: int) -> str:
    """Thousands separators, at most ``max_decimals`` and at least ``min_decimals`` decimals
    (the page's script formats the same way with Intl.NumberFormat)."""
    if value is None:
        return "—"
    text = f"{value:,.{max_decimals}f}"
    if max_decimals > min_decimals:
        whole, _dot, decimals = text.partition(".")
        decimals = decimals.rstrip("0").ljust(min_decimals, "0")
        text = f"{whole}.{decimals}" if decimals else whole
    if text.startswith("-") and float(text[1:].replace(",", "")) == 0:
        text = text[1:]  # a tiny loss rounds to 0, not to "-0.00"
    return text


def json_script(data) -> Markup:
    """JSON safe inside <script type="application/json"> ("<" cannot close the tag)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    return Markup(text)  # noqa: S704 - escaped above


def catalogue_for_page(models) -> list[dict]:
    return [
        {
            "id": m.id,
            "name": f"{m.vendor} {m.model}",
            "vendor": m.vendor,
            "hashrate_ths": m.hashrate_ths,
            "power_w": m.power_w,
            "cooling": m.cooling,
            "year": m.release_year,
            "modes": [
                {
                    "name": mode.name,
                    "hashrate_ths": mode.hashrate_ths,
                    "power_w": mode.power_w,
                    "is_default": mode.is_default,
                }
                for mode in m.power_modes
            ],
        }
        for m in models
    ]


def default_model(models) -> str:
    """A current, common machine for a first visit (the newest air-cooled model by efficiency
    is too exotic; the Antminer S21 is what most new farms rack)."""
    for m in models:
        if m.model.casefold() == "antminer s21":
            return str(m.id)
    return str(models[0].id) if models else ""


# --- calculator page and API --------------------------------------------------------------


@view_config(
    route_name="calculator.estimate.page",
    renderer=TEMPLATE,
    request_method="GET",
    permission=CalculatorPermission.ESTIMATE_RUN,
)
def calculator_page(request):
    models = catalogue.active_models(request.dbsession)
    first_visit = not any(name in request.GET for name in form.DEFAULTS)
    values = form.form_values(request.GET)
    if first_visit:
        values["model"] = default_model(models)
    stored = services.read_market(request)
    result, error, example_capex = None, None, False
    try:
        body = form.body_from_form(values)
        if body["miners"][0] or values["model"]:
            miners = services.build_miners(request.dbsession, body["miners"])
            example_capex = form.fill_example_capex(body, miners)
            result = services.run_quote(request, body, stored)
    except InvalidInput as exc:
        # A first visit with no market data stored is not the visitor's mistake: the form
        # says which values to type, without an error status.
        if not first_visit:
            request.response.status_int = exc.status
        error = exc
    by_id = {str(m.id): m for m in models}
    chosen = by_id.get(values["model"])
    if chosen is not None:  # the model's figures in the (then read-only) fields
        ths, watts, _mode = services.operating_point(chosen, None, "mode")
        for candidate in chosen.power_modes:
            if candidate.name.casefold() == values["mode"].casefold():
                ths, watts = candidate.hashrate_ths, candidate.power_w
        values["hashrate_ths"], values["power_w"] = f"{ths:g}", f"{watts:g}"
    if example_capex and result is not None:
        values["capex_usd"] = ""
    return {
        "models": models,
        "chosen": chosen,
        "catalogue_json": json_script(catalogue_for_page(models)),
        "market": {name: value.as_dict() for name, value in stored.items()},
        "market_json": json_script({n: v.as_dict() for n, v in stored.items()}),
        "form": values,
        "error": error,
        "error_field": form.field_of(error.field) if error else None,
        "result": result,
        "example_capex": example_capex,
        "example_usd_per_th": form.EXAMPLE_USD_PER_TH,
        "fmt": format_number,
    }


@view_config(
    route_name="calculator.batch.page",
    renderer=BATCH,
    request_method="GET",
    permission=CalculatorPermission.ESTIMATE_RUN,
)
def batch_page(request):
    models = catalogue.active_models(request.dbsession)
    stored = services.read_market(request)
    return {
        "models": models,
        "market": {name: value.as_dict() for name, value in stored.items()},
        "columns": batch.FILE_COLUMNS,
        "max_rows": batch.MAX_ROWS,
        "max_mb": batch.MAX_FILE_BYTES // (1024 * 1024),
    }


def api(route: str):
    return view_config(
        route_name=route,
        request_method="POST",
        renderer="json",
        openapi=True,
        permission=CalculatorPermission.ESTIMATE_RUN,
    )


@api("calculator.api.estimate")
def api_estimate(request):
    return services.estimate(request.openapi.body)


@api("calculator.api.quote")
def api_quote(request):
    return services.run_quote(request, request.openapi.body)


@api("calculator.api.projection")
def api_projection(request):
    return services.run_projection(request, request.openapi.body)


@api("calculator.api.montecarlo")
def api_monte_carlo(request):
    return services.run_monte_carlo(request, request.openapi.body)


@api("calculator.api.sensitivity")
def api_sensitivity(request):
    return services.run_sensitivity(request, request.openapi.body)


@exception_view_config(batch.BatchError, renderer="json")
def batch_error(exc, request):
    """A batch with bad rows: 422 naming every row and column in ``details``."""
    request.response.status_int = exc.status
    translate = request.localizer.translate
    return {
        "error": {
            "code": exc.code,
            "message": exc.text(translate),
            "details": [p.as_dict(translate) for p in exc.problems],
        }
    }


def batch_answer(request, table: dict):
    kind = request.openapi.parameters.query.get("format", "json")
    if kind == "json":
        return table
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M")
    if kind == "csv":
        body, content_type = batch.to_csv(table), "text/csv"
    else:
        body, content_type = batch.to_xlsx(table), batch.XLSX_TYPE
    response = Response(body=body, content_type=content_type)
    if kind == "csv":
        response.charset = "utf-8"
    response.content_disposition = f'attachment; filename="hashinsight-batch-{stamp}.{kind}"'
    return response


@api("calculator.api.batch")
def api_batch(request):
    data = request.openapi.body
    stored = services.read_market(request)
    if data.get("grid") and data.get("scenarios"):
        raise InvalidInput(_("give grid or scenarios, not both"), "grid")
    if data.get("grid"):
        rows = batch.from_grid(request.dbsession, data, stored)
    elif data.get("scenarios"):
        rows = batch.from_list(request.dbsession, data, stored)
    else:
        raise InvalidInput(
            _("give a grid of models, prices and rates, or a list of scenarios"), "grid"
        )
    return batch_answer(request, batch.run(rows))


@api("calculator.api.batch.file")
def api_batch_file(request):
    content = request.body or b""
    query = dict(request.openapi.parameters.query)
    query.pop("format", None)
    stored = services.read_market(request)
    rows = batch.from_file(request.dbsession, content, query, stored)
    return batch_answer(request, batch.run(rows))


# --- catalogue: JSON API -------------------------------------------------------------------


def can_manage(request) -> bool:
    return bool(request.has_permission(CalculatorPermission.MODEL_MANAGE))


def get_model(request, hide_inactive: bool = False) -> AsicModel:
    model = request.dbsession.get(AsicModel, int(request.matchdict["model_id"]))
    if model is None or (hide_inactive and not model.is_active and not can_manage(request)):
        raise HTTPNotFound("no such miner model")
    return model


@view_config(
    route_name="calculator.api.model.collection",
    request_method="GET",
    renderer="json",
    openapi=True,
    permission=CalculatorPermission.MODEL_READ,
)
def api_model_list(request):
    params = request.openapi.parameters.query
    status = params.get("status", "active")
    if status != "active" and not can_manage(request):
        raise HTTPForbidden("only catalogue managers see inactive models")
    query = catalogue.query_models(
        q=params.get("q", ""),
        vendor=params.get("vendor", ""),
        cooling=params.get("cooling", ""),
        status=status,
        sort=params.get("sort", "name"),
    )
    return paginate(request, query, AsicModel.as_dict)


@view_config(
    route_name="calculator.api.model.collection",
    request_method="POST",
    renderer="json",
    openapi=True,
    permission=CalculatorPermission.MODEL_MANAGE,
)
def api_model_create(request):
    spec = catalogue.clean_model(request.openapi.body)
    model = catalogue.create_model(request, spec, via="api")
    request.response.status_int = 201
    return model.as_dict()


@view_config(
    route_name="calculator.api.model.item",
    request_method="GET",
    renderer="json",
    openapi=True,
    permission=CalculatorPermission.MODEL_READ,
)
def api_model_get(request):
    return get_model(request, hide_inactive=True).as_dict()


@view_config(
    route_name="calculator.api.model.item",
    request_method="PATCH",
    renderer="json",
    openapi=True,
    permission=CalculatorPermission.MODEL_MANAGE,
)
def api_model_update(request):
    model = get_model(request)
    spec = catalogue.clean_model(request.openapi.body, base=catalogue.spec_of(model))
    catalogue.update_model(request, model, spec, via="api")
    return model.as_dict()


# --- catalogue: admin pages ----------------------------------------------------------------


DEFAULT_FILTERS = {"status": "all", "sort": "name"}


def list_filters(params) -> dict:
    """The list's filters from the query string; anything unknown falls back to the default."""

    def choice(name, allowed, default):
        value = (params.get(name) or "").strip()
        return value if value in allowed else default

    return {
        "q": (params.get("q") or "").strip()[:100],
        "vendor": (params.get("vendor") or "").strip()[: catalogue.MAX_VENDOR],
        "cooling": choice("cooling", COOLING_TYPES, ""),
        "status": choice("status", catalogue.STATUSES, DEFAULT_FILTERS["status"]),
        "sort": choice("sort", catalogue.SORTS, DEFAULT_FILTERS["sort"]),
    }


COOLING_LABELS = {"air": _("Air"), "hydro": _("Hydro"), "immersion": _("Immersion")}
STATUS_LABELS = {"active": _("Active"), "inactive": _("Inactive"), "all": _("All")}
SORT_LABELS = {
    "name": _("Name"),
    "efficiency": _("Best efficiency"),
    "hashrate": _("Highest hashrate"),
    "year": _("Newest"),
}

NOTICES = {
    "created": _("The model was added."),
    "saved": _("Saved"),
    "unchanged": _("Nothing changed."),
    "deactivated": _("The model was deactivated: the calculator no longer offers it."),
    "reactivated": _("The model is active again."),
}


@view_config(
    route_name="calculator.model.list",
    renderer=MODELS,
    request_method="GET",
    permission=CalculatorPermission.MODEL_MANAGE,
)
def model_list(request):
    filters = list_filters(request.GET)
    query = catalogue.query_models(**filters)
    counted = query.order_by(None).subquery()
    total = request.dbsession.scalar(sa.select(sa.func.count()).select_from(counted))
    pages = max(1, -(-total // PAGE_SIZE))
    try:
        page = min(max(int(request.GET.get("page", "1")), 1), pages)
    except ValueError:
        page = 1
    models = request.dbsession.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))
    return {
        "models": list(models),
        "total": total,
        "page": page,
        "pages": pages,
        "filters": filters,
        "vendors": catalogue.vendors(request.dbsession),
        "query": {k: v for k, v in filters.items() if v and v != DEFAULT_FILTERS.get(k)},
        "cooling_labels": COOLING_LABELS,
        "status_labels": STATUS_LABELS,
        "sort_labels": SORT_LABELS,
        "notice": NOTICES.get(request.GET.get("done", "")),
    }


MODEL_FIELDS = ("vendor", "model", "hashrate_ths", "power_w", "cooling", "release_year")
TEXT_FIELDS = ("source", "notes")


def form_of(model: AsicModel | None) -> dict:
    if model is None:
        return {"cooling": "air", "modes": blank_modes(0)}
    spec = catalogue.spec_of(model)
    form = {
        name: ("" if getattr(spec, name) is None else str(getattr(spec, name)))
        for name in (*MODEL_FIELDS, *TEXT_FIELDS)
    }
    for name in ("hashrate_ths", "power_w"):
        form[name] = catalogue.format_number(getattr(spec, name))
    form["modes"] = [
        {
            "name": m.name,
            "hashrate_ths": catalogue.format_number(m.hashrate_ths),
            "power_w": catalogue.format_number(m.power_w),
            "is_default": m.is_default,
        }
        for m in spec.power_modes
    ] + blank_modes(len(spec.power_modes))
    return form


def blank_modes(count: int) -> list[dict]:
    rows = min(BLANK_MODE_ROWS, catalogue.MAX_MODES - count)
    return [{"name": "", "hashrate_ths": "", "power_w": "", "is_default": False}] * rows


def parse_model_form(post) -> tuple[dict, dict, list[int]]:
    """(the form as typed, raw values for clean_model, the form row of each kept mode)."""
    form = {name: post.get(name, "") for name in (*MODEL_FIELDS, *TEXT_FIELDS)}
    default_row = post.get("default_mode", "")
    rows, raws, modes = [], [], []
    for index in range(catalogue.MAX_MODES + BLANK_MODE_ROWS):
        prefix = f"mode-{index}-"
        if prefix + "name" not in post:
            break
        row = {
            "name": post.get(prefix + "name", ""),
            "hashrate_ths": post.get(prefix + "hashrate_ths", ""),
            "power_w": post.get(prefix + "power_w", ""),
            "is_default": default_row == str(index),
            "remove": bool(post.get(prefix + "remove")),
        }
        modes.append(row)
        typed = any(row[key].strip() for key in ("name", "hashrate_ths", "power_w"))
        if typed and not row["remove"]:
            raws.append({key: row[key] for key in ("name", "hashrate_ths", "power_w")})
            raws[-1]["is_default"] = row["is_default"]
            rows.append(index)
    form["modes"] = modes  # as posted, so "mode 3" in a message is still the third row
    raw = {name: form[name] for name in (*MODEL_FIELDS, *TEXT_FIELDS)}
    raw["power_modes"] = raws
    return form, raw, rows


def edit_values(request, model, form, error=None, notice=None) -> dict:
    return {
        "model": model,
        "form": form,
        "error": error,
        "notice": notice,
        "cooling_labels": COOLING_LABELS,
        "max_year": dt.date.today().year + 2,
    }


def save_model_form(request, model: AsicModel | None):
    form, raw, rows = parse_model_form(request.POST)
    # Name a mode by its row in the form, so the message points at what the admin sees.
    field_of = lambda index, key: f"mode {rows[index] + 1} {key}"  # noqa: E731
    try:
        base = catalogue.spec_of(model) if model is not None else None
        if base is not None:
            raw["is_active"] = base.is_active  # the page changes that with its own button
        spec = catalogue.clean_model(raw, base=base, field_of=field_of)
        if model is None:
            model = catalogue.create_model(request, spec)
            done = "created"
        else:
            done = "saved" if catalogue.update_model(request, model, spec) else "unchanged"
    except DomainError as error:
        request.response.status_int = error.status
        if len(form["modes"]) < catalogue.MAX_MODES:
            form["modes"] += blank_modes(len(form["modes"]))[:1]
        return edit_values(request, model, form, error=error)
    return HTTPSeeOther(
        request.route_path("calculator.model.edit", model_id=model.id, _query={"done": done})
    )


@view_config(
    route_name="calculator.model.create",
    renderer=MODEL,
    request_method="GET",
    permission=CalculatorPermission.MODEL_MANAGE,
)
def model_new_form(request):
    return edit_values(request, None, form_of(None))


@view_config(
    route_name="calculator.model.create",
    renderer=MODEL,
    request_method="POST",
    permission=CalculatorPermission.MODEL_MANAGE,
)
def model_create(request):
    return save_model_form(request, None)


@view_config(
    route_name="calculator.model.edit",
    renderer=MODEL,
    request_method="GET",
    permission=CalculatorPermission.MODEL_MANAGE,
)
def model_edit_form(request):
    model = get_model(request)
    notice = NOTICES.get(request.GET.get("done", ""))
    return edit_values(request, model, form_of(model), notice=notice)


@view_config(
    route_name="calculator.model.edit",
    renderer=MODEL,
    request_method="POST",
    permission=CalculatorPermission.MODEL_MANAGE,
)
def model_edit(request):
    return save_model_form(request, get_model(request))


@view_config(
    route_name="calculator.model.status",
    request_method="POST",
    permission=CalculatorPermission.MODEL_MANAGE,
)
def model_status(request):
    model = get_model(request)
    active = request.POST.get("active") == "1"
    catalogue.set_active(request, model, active)
    done = "reactivated" if active else "deactivated"
    return HTTPSeeOther(
        request.route_path("calculator.model.edit", model_id=model.id, _query={"done": done})
    )


@view_config(
    route_name="calculator.model.export",
    request_method="GET",
    permission=CalculatorPermission.MODEL_MANAGE,
)
def model_export(request):
    models = request.dbsession.scalars(catalogue.query_models(**list_filters(request.GET)))
    response = request.response
    # The byte order mark makes Excel read the file as UTF-8; the importer skips it.
    response.body = ("\ufeff" + catalogue.write_csv(models)).encode("utf-8")
    response.content_type = "text/csv"
    response.charset = "utf-8"
    response.content_disposition = (
        f'attachment; filename="asic-models-{dt.date.today():%Y%m%d}.csv"'
    )
    return response


def import_values(request, **extra) -> dict:
    return {
        "columns": catalogue.CSV_COLUMNS,
        "required": catalogue.REQUIRED_COLUMNS,
        "max_rows": catalogue.MAX_CSV_ROWS,
        "max_bytes": catalogue.MAX_CSV_BYTES,
        "seed_count": len(catalogue.load_seed_specs()),
        "problems": [],
        "error": None,
        "report": None,
        "update_existing": False,
        **extra,
    }


@view_config(
    route_name="calculator.model.import",
    renderer=IMPORT,
    request_method="GET",
    permission=CalculatorPermission.MODEL_MANAGE,
)
def model_import_form(request):
    return import_values(request)


def uploaded_bytes(request) -> bytes:
    upload = request.POST.get("file")
    if upload is None or not hasattr(upload, "file"):
        raise catalogue.CatalogueFileError(
            [catalogue.Problem(None, None, _("choose a CSV file to upload"))]
        )
    # One byte more than allowed is enough to know the file is too big.
    return upload.file.read(catalogue.MAX_CSV_BYTES + 1)


@view_config(
    route_name="calculator.model.import",
    renderer=IMPORT,
    request_method="POST",
    permission=CalculatorPermission.MODEL_MANAGE,
)
def model_import(request):
    update_existing = bool(request.POST.get("update_existing"))
    try:
        specs = catalogue.read_csv(uploaded_bytes(request))
        report = catalogue.import_specs(request, specs, update_existing)
    except catalogue.CatalogueFileError as error:
        request.response.status_int = error.status
        return import_values(
            request,
            problems=error.problems,
            more=error.more,
            error=error,
            update_existing=update_existing,
        )
    except DomainError as error:  # a model that another admin added a moment ago
        request.response.status_int = error.status
        return import_values(request, error=error, update_existing=update_existing)
    return import_values(request, report=report, update_existing=update_existing)


@view_config(
    route_name="calculator.model.seed",
    renderer=IMPORT,
    request_method="POST",
    permission=CalculatorPermission.MODEL_MANAGE,
)
def model_seed(request):
    report = catalogue.seed(request, reset=bool(request.POST.get("reset")))
    return import_values(request, report=report, seeded=True)
