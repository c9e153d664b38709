"""The hooks a HashInsight plugin may implement.

A plugin is a module registered under the ``hashinsight.plugins`` entry-point group. The
module may also define ``REQUIRES`` (names of plugins it imports and needs enabled) and
``TITLE`` (a short human name). Every hook is optional; implement the ones you need with
``@hashinsight_core.hookimpl``. See docs/plugins.md for a walk-through.

Hooks are called in reverse registration order (pluggy's rule); none depends on order except
where stated. No hook may do work at import time: the core calls them while building the app,
so a disabled plugin contributes nothing.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("hashinsight")
hookimpl = pluggy.HookimplMarker("hashinsight")


@hookspec
def hashinsight_configure(config):
    """Wire the plugin into the Pyramid ``config``: usually ``config.include("plugins.x")``.

    Called after the core has set up the database, security, tasks, nav and i18n, so the
    plugin may use their directives (``config.add_api_paths``, ``config.add_periodic_task``
    is *not* one of them: use ``hashinsight_periodic_tasks``).
    """


@hookspec
def hashinsight_models():
    """Return the module names (dotted strings) that hold the plugin's SQLAlchemy models.

    The core imports them so that ``Base.metadata`` knows every enabled plugin's tables
    (the migration check and ``hashinsight migrate`` rely on it). Tables are prefixed with the
    plugin name (``hosting_sites``). The plugin's alembic revisions live in a ``migrations``
    folder next to its ``hooks`` module, on a branch labelled with the plugin's name.
    """


@hookspec
def hashinsight_periodic_tasks():
    """Return a list of :class:`hashinsight_core.tasks.PeriodicTask`.

    Each ``PeriodicTask(schedule, func, name)`` is registered on huey by the core, which runs
    ``func(request)`` inside a request and a transaction. ``schedule`` is a
    ``huey.crontab(...)``. Names are ``"<plugin>.<job>"`` and must be unique. Jobs must be
    idempotent: running one twice, or again after a crash, gives the same rows.
    """


@hookspec
def hashinsight_permissions():
    """Return a list of :class:`hashinsight_core.security.PermissionSpec`.

    Each names a permission (a ``StrEnum`` member ``"<scope>:<resource>:<action>"``), a short
    description for the roles editor, and the built-in roles granted it by default
    (``owner``, ``admin``, ``operator``, ``customer``, ``viewer``, or ``anonymous`` for
    public pages).
    """


@hookspec
def hashinsight_nav_items(request):
    """Return a list of :class:`hashinsight_core.nav.NavItem` for the main menu.

    The core keeps only the items whose ``permission`` the current user holds, and sorts by
    ``order``. ``title`` is a translation string so it shows in the user's language.
    """


@hookspec
def hashinsight_api_paths():
    """Return an OpenAPI 3 fragment ``{"paths": {...}, "components": {...}}``.

    The core merges every enabled plugin's fragment into the one document at
    ``/api/v1/openapi.json``; views declared with ``openapi=True`` are validated against it.
    Every route under ``/api/`` must appear in the document (a test enforces it).
    """


@hookspec
def hashinsight_reports():
    """Return a list of :class:`hashinsight_core.reports.ReportSection` the plugin can render."""


@hookspec
def hashinsight_event(request, event):
    """React to a domain event after its transaction committed.

    ``event`` is a :class:`hashinsight_core.events.DomainEvent` with a ``tag`` such as
    ``"hosting:telemetry:stored"``. Runs in a huey task with its own request and
    transaction. Must be idempotent: an event may be delivered more than once.
    """


@hookspec
def hashinsight_invoice_lines(request, customer, period):
    """Return the invoice lines this plugin bills to ``customer`` for ``period``."""


@hookspec
def hashinsight_places(request):
    """Return the places accounts can be limited to, as :class:`hashinsight_core.scoping.Place`.

    A place is a whole site (``zone_id`` None) or one zone of it, with a label to show. The
    admin user page offers them as memberships (see ``hashinsight_core.scoping``); the hosting
    plugin provides its sites and zones.
    """


@hookspec
def hashinsight_demo(request, var_dir, server_url):
    """Prepare demo data for ``hashinsight demo`` and name programs to run beside it.

    Called once per demo start, after migrations and the demo owner, inside a request and a
    transaction that commits when every plugin has answered. ``var_dir`` is a
    :class:`pathlib.Path` for the plugin's files (write tokens and secrets there, never print
    them); ``server_url`` is where the demo's web server will answer (``http://127.0.0.1:6543``).
    Must be idempotent: a second start finds what the first made and makes nothing twice.

    Return a list of dicts ``{"name": str, "argv": [str, ...], "ready": callable | None}``.
    The CLI starts them in order beside the worker and the server; when ``ready`` is given it
    waits (up to 30 s) until ``ready()`` is true before starting the next one. On Ctrl-C every
    process gets SIGINT, then SIGKILL if it has not stopped after 10 s.
    """


@hookspec(firstresult=True)
def hashinsight_brand(request):
    """Return the brand for this request as a dict, or None for the deployment default.

    Keys as in :func:`hashinsight_core.web.default_brand` (name, logo, favicon, colours,
    support contacts, legal footer …). The hosting plugin chooses one by the request's host
    name, or by the signed-in customer's brand, so a customer never sees another brand.
    """


@hookspec
def hashinsight_search(request, query, limit):
    """Return quick-search results for ``query`` the current account may see.

    A list of :class:`hashinsight_core.search.SearchGroup` (one per kind of thing, e.g.
    miners, sites, tickets), each holding at most ``limit`` ranked hits. Must respect the
    account's data scope (the ORM hook does, for ORM statements) and permissions.
    """
