"""Which brand a request shows, and the in-process cache that keeps this cheap.

::

    request ──> signed-in customer user? ──yes──> the customer's brand (hosting_customer_brands)
                    │ no, or no brand assigned                 │
                    ▼                                          │
               Host header (lower case, port and final dot     │
               removed) ──> hosting_brand_hosts ──> brand      │
                    │ no host matches                          │
                    ▼                                          │
               the brand marked default ──> brand              │
                    │ none                                     ▼
                    ▼                                   brand dict (cached)
               None: the deployment's brand.* settings

The Host header is used as the WSGI server hands it over. ``X-Forwarded-Host`` is never read
here: a proxy that rewrites host names must be trusted by the WSGI server itself (waitress
``trusted_proxy`` / ``trusted_proxy_headers``), which then sets the host for us.

Answers are kept per process for ``hosting.brands.cache_seconds`` (30 s by default) and
dropped at once in the process that edits a brand (other processes catch up within the TTL).
"""

from __future__ import annotations

import re
import threading
import time
from urllib.parse import urlparse

import sqlalchemy as sa

from plugins.hosting.brands.models import Brand, BrandHost, CustomerBrand

HOST = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)
UNSCOPED = {"unscoped": True}


def normalize_host(value: str | None) -> str:
    """``Portal.Example.COM:8443`` -> ``portal.example.com``; IPv6 ``[::1]:80`` -> ``::1``."""
    host = (value or "").strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else ""
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def is_host_name(host: str) -> bool:
    return bool(HOST.match(host))


class BrandCache:
    """Small TTL maps: host -> brand id, customer -> brand id, the default id, id -> dict.

    ``clear`` also moves a generation on: a load that began before it (and so may have read
    the old rows, e.g. in another thread while an edit committed) is not stored.
    """

    def __init__(self, ttl_seconds: float, clock=time.monotonic):
        self.ttl = ttl_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._entries: dict[tuple, tuple[float, object]] = {}
        self._generation = 0

    def get(self, key: tuple, load):
        if self.ttl <= 0:
            return load()
        with self._lock:
            hit = self._entries.get(key)
            generation = self._generation
        if hit is not None and hit[0] > self.clock():
            return hit[1]
        value = load()
        with self._lock:
            if generation == self._generation:
                self._entries[key] = (self.clock() + self.ttl, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1


def cache_of(registry) -> BrandCache:
    return registry["hosting.brands.cache"]


def invalidate(request) -> None:
    """Forget cached brands now and again after the commit (a request in between could have
    cached the old rows)."""
    cache = cache_of(request.registry)
    cache.clear()
    request.tm.get().addAfterCommitHook(lambda _ok: cache.clear())


def _image_path(request, digest: str | None) -> str | None:
    return request.route_path("hosting.brand.image", digest=digest) if digest else None


def brand_dict(request, brand: Brand) -> dict:
    """The fields the core's ``merge_brand`` expects (every text field, even when empty)."""
    logo = _image_path(request, brand.logo_digest)
    mail_logo = None
    if logo:
        host = request.dbsession.scalar(
            sa.select(BrandHost.host)
            .where(BrandHost.brand_id == brand.id)
            .order_by(BrandHost.id)
            .limit(1)
            .execution_options(**UNSCOPED)
        )
        if host:
            public = request.registry.settings.get("hashinsight.public_url") or ""
            scheme = urlparse(public).scheme or request.scheme
            mail_logo = f"{scheme}://{host}{logo}"
    return {
        "id": brand.id,
        "slug": brand.slug,
        "name": brand.name,
        "logo": logo,
        "favicon": _image_path(request, brand.favicon_digest),
        "primary_color": brand.primary_color,
        "background_color": brand.background_color,
        "support_email": brand.support_email,
        "support_phone": brand.support_phone,
        "support_url": brand.support_url,
        "legal_footer": brand.legal_footer,
        "mail_footer": brand.mail_footer,
        "mail_logo": mail_logo,
    }


def _load_brand(request, brand_id: int) -> dict | None:
    brand = request.dbsession.execute(
        sa.select(Brand).where(Brand.id == brand_id).execution_options(**UNSCOPED)
    ).scalar_one_or_none()
    return brand_dict(request, brand) if brand is not None else None


def cached_brand(request, brand_id: int | None) -> dict | None:
    if brand_id is None:
        return None
    return cache_of(request.registry).get(
        ("brand", brand_id), lambda: _load_brand(request, brand_id)
    )


def customer_brand_id(request, customer_id: int) -> int | None:
    def load():
        return request.dbsession.scalar(
            sa.select(CustomerBrand.brand_id)
            .where(CustomerBrand.customer_id == customer_id)
            .execution_options(**UNSCOPED)
        )

    return cache_of(request.registry).get(("customer", customer_id), load)


def host_brand_id(request, host: str) -> int | None:
    if not host:
        return None

    def load():
        return request.dbsession.scalar(
            sa.select(BrandHost.brand_id)
            .where(BrandHost.host == host)
            .execution_options(**UNSCOPED)
        )

    return cache_of(request.registry).get(("host", host), load)


def default_brand_id(request) -> int | None:
    def load():
        return request.dbsession.scalar(
            sa.select(Brand.id)
            .where(Brand.is_default.is_(True))
            .order_by(Brand.id)
            .limit(1)
            .execution_options(**UNSCOPED)
        )

    return cache_of(request.registry).get(("default",), load)


def resolve_for_request(request) -> dict | None:
    from pyramid.httpexceptions import HTTPException

    try:
        user = request.user
    except HTTPException:  # a bad API token: its error page still needs a brand
        user = None
    brand_id = None
    if user is not None and user.customer_id is not None:
        brand_id = customer_brand_id(request, user.customer_id)
    if brand_id is None:
        brand_id = host_brand_id(request, normalize_host(request.host))
    if brand_id is None:
        brand_id = default_brand_id(request)
    return cached_brand(request, brand_id)


def resolve_for_customer(request, customer_id: int | None) -> dict | None:
    """The customer's brand, else the default brand row, else None (the settings)."""
    brand_id = customer_brand_id(request, customer_id) if customer_id is not None else None
    if brand_id is None:
        brand_id = default_brand_id(request)
    return cached_brand(request, brand_id)
