"""Brand changes: validated in full before anything is written (a 4xx never leaves half a
change), audited, and dropping the brand cache so the next page shows them."""

from __future__ import annotations

import re

import sqlalchemy as sa
from pyramid.i18n import TranslationStringFactory

from hashinsight_core.exceptions import Conflict, InvalidInput
from hashinsight_core.models import Customer
from hashinsight_core.web import is_color
from plugins.hosting.brands.images import check_image
from plugins.hosting.brands.models import Brand, BrandHost, BrandImage, CustomerBrand
from plugins.hosting.brands.resolve import invalidate, is_host_name, normalize_host

_ = TranslationStringFactory("hashinsight")

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")
EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")
PHONE = re.compile(r"^[0-9+().\- ]{3,50}$")
TEXT_LIMITS = {"legal_footer": 2000, "mail_footer": 2000}
# One whole sentence per field, so the field's name is translated with it.
NOT_A_COLOUR = {
    "primary_color": _("primary color must be a hex colour like #f7931a"),
    "background_color": _("background color must be a hex colour like #f7931a"),
}
TOO_LONG = {
    "legal_footer": _("legal footer is too long (at most ${limit})"),
    "mail_footer": _("mail footer is too long (at most ${limit})"),
}
FIELDS = (
    "name",
    "slug",
    "primary_color",
    "background_color",
    "support_email",
    "support_phone",
    "support_url",
    "legal_footer",
    "mail_footer",
)


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60].strip("-")


def clean_brand(form) -> dict:
    """The brand fields from a form; InvalidInput naming the first problem."""
    values = {key: str(form.get(key, "") or "").strip() for key in FIELDS}
    values["is_default"] = form.get("is_default") in ("on", "true", "1", True)
    if not values["name"] or len(values["name"]) > 200:
        raise InvalidInput(_("the name is needed (at most 200 characters)"), "name")
    values["slug"] = (values["slug"] or slugify(values["name"])).lower()
    if not SLUG.match(values["slug"]):
        raise InvalidInput(
            _("the short name may hold only a-z, 0-9 and dashes (at most 60)"), "slug"
        )
    for key in ("primary_color", "background_color"):
        if not is_color(values[key]):
            raise InvalidInput(NOT_A_COLOUR[key], key)
        values[key] = values[key].lower()
    if values["support_email"] and (
        len(values["support_email"]) > 254 or not EMAIL.match(values["support_email"])
    ):
        raise InvalidInput(_("the support e-mail is not an e-mail address"), "support_email")
    if values["support_phone"] and not PHONE.match(values["support_phone"]):
        raise InvalidInput(
            _("the support phone may hold only digits, spaces and + ( ) . -"), "support_phone"
        )
    url = values["support_url"]
    if url and (len(url) > 500 or not re.match(r"^https?://[^\s<>\"']+$", url)):
        raise InvalidInput(_("the help page must be an http:// or https:// address"), "support_url")
    for key, limit in TEXT_LIMITS.items():
        values[key] = values[key].replace("\r\n", "\n")
        if len(values[key]) > limit:
            raise InvalidInput(TOO_LONG[key] % {"limit": limit}, key)
    return values


def _unscoped(statement):
    return statement.execution_options(unscoped=True)


def _check_unique(db, values: dict, brand_id: int | None) -> None:
    for key in ("name", "slug"):
        column = getattr(Brand, key)
        other = db.scalar(_unscoped(sa.select(Brand.id).where(column == values[key])))
        if other is not None and other != brand_id:
            raise Conflict(
                _("another brand already has this name")
                if key == "name"
                else _("another brand already has this short name"),
                key,
            )


def _only_default(db, brand: Brand) -> None:
    if brand.is_default:
        db.execute(
            sa.update(Brand)
            .where(Brand.id != brand.id, Brand.is_default.is_(True))
            .values(is_default=False)
            .execution_options(synchronize_session=False)
        )


def create_brand(request, form) -> Brand:
    db = request.dbsession
    values = clean_brand(form)
    _check_unique(db, values, None)
    brand = Brand(**values)
    db.add(brand)
    db.flush()
    _only_default(db, brand)
    invalidate(request)
    request.audit("hosting:brand:create", subject=("brand", brand.id), payload={"name": brand.name})
    return brand


def update_brand(request, brand: Brand, form) -> None:
    db = request.dbsession
    values = clean_brand(form)
    _check_unique(db, values, brand.id)
    changed = sorted(k for k, v in values.items() if getattr(brand, k) != v)
    for key, value in values.items():
        setattr(brand, key, value)
    db.flush()
    _only_default(db, brand)
    invalidate(request)
    request.audit("hosting:brand:update", subject=("brand", brand.id), payload={"changed": changed})


def delete_brand(request, brand: Brand) -> None:
    db = request.dbsession
    brand_id, name = brand.id, brand.name
    digests = {brand.logo_digest, brand.favicon_digest} - {None}
    db.execute(sa.delete(CustomerBrand).where(CustomerBrand.brand_id == brand_id))
    db.execute(sa.delete(BrandHost).where(BrandHost.brand_id == brand_id))
    db.delete(brand)
    db.flush()
    for digest in digests:
        _drop_unused_image(db, digest)
    invalidate(request)
    request.audit("hosting:brand:delete", subject=("brand", brand_id), payload={"name": name})


def add_host(request, brand: Brand, raw: str) -> BrandHost:
    db = request.dbsession
    raw = (raw or "").strip()
    # A host name only: "https://x/path" or "user@x" is refused, not trimmed into something else.
    host = "" if re.search(r"[/\s@?#\\]", raw) else normalize_host(raw)
    if not host or not is_host_name(host):
        raise InvalidInput(
            _("enter a host name like portal.example.com (no http://, no path)"), "host"
        )
    owner = db.scalar(sa.select(BrandHost.brand_id).where(BrandHost.host == host))
    if owner is not None:
        raise Conflict(_("this host name already belongs to a brand"), "host")
    row = BrandHost(brand_id=brand.id, host=host)
    db.add(row)
    db.flush()
    invalidate(request)
    request.audit("hosting:brand_host:add", subject=("brand", brand.id), payload={"host": host})
    return row


def remove_host(request, brand: Brand, host_id) -> None:
    db = request.dbsession
    try:
        ident = int(host_id)
    except (TypeError, ValueError):
        raise InvalidInput(_("no such host name"), "host_id") from None
    row = db.scalar(
        sa.select(BrandHost).where(BrandHost.id == ident, BrandHost.brand_id == brand.id)
    )
    if row is None:
        raise InvalidInput(_("no such host name"), "host_id")
    host = row.host
    db.delete(row)
    db.flush()
    invalidate(request)
    request.audit("hosting:brand_host:remove", subject=("brand", brand.id), payload={"host": host})


def _drop_unused_image(db, digest: str | None) -> None:
    if digest is None:
        return
    used = db.scalar(
        _unscoped(
            sa.select(sa.func.count(Brand.id)).where(
                sa.or_(Brand.logo_digest == digest, Brand.favicon_digest == digest)
            )
        )
    )
    if not used:
        db.execute(sa.delete(BrandImage).where(BrandImage.digest == digest))


def set_image(request, brand: Brand, kind: str, data: bytes) -> str:
    """Store a checked image as the brand's logo or favicon; return its digest."""
    db = request.dbsession
    image = check_image(kind, data)  # raises before anything is written
    if db.get(BrandImage, image.digest) is None:
        db.add(
            BrandImage(
                digest=image.digest,
                content_type=image.content_type,
                size=len(image.data),
                data=image.data,
            )
        )
    column = f"{kind}_digest"
    old = getattr(brand, column)
    setattr(brand, column, image.digest)
    db.flush()
    if old != image.digest:
        _drop_unused_image(db, old)
    invalidate(request)
    request.audit(
        "hosting:brand_image:upload",
        subject=("brand", brand.id),
        payload={"kind": kind, "digest": image.digest, "size": len(image.data)},
    )
    return image.digest


def remove_image(request, brand: Brand, kind: str) -> None:
    if kind not in ("logo", "favicon"):
        raise InvalidInput(_("kind must be logo or favicon"), "kind")
    db = request.dbsession
    column = f"{kind}_digest"
    old = getattr(brand, column)
    setattr(brand, column, None)
    db.flush()
    _drop_unused_image(db, old)
    invalidate(request)
    request.audit("hosting:brand_image:remove", subject=("brand", brand.id), payload={"kind": kind})


def set_customers(request, brand: Brand, raw_ids) -> None:
    """Make exactly these customers carry this brand (others of this brand lose it; a listed
    customer of another brand moves here)."""
    db = request.dbsession
    try:
        wanted = {int(v) for v in raw_ids if str(v).strip()}
    except (TypeError, ValueError):
        raise InvalidInput(_("customer ids must be whole numbers"), "customer_id") from None
    known = (
        set(db.scalars(sa.select(Customer.id).where(Customer.id.in_(wanted)))) if wanted else set()
    )
    if wanted - known:
        raise InvalidInput(
            _("no such customer: ${id}", mapping={"id": sorted(wanted - known)[0]}), "customer_id"
        )
    current = set(
        db.scalars(sa.select(CustomerBrand.customer_id).where(CustomerBrand.brand_id == brand.id))
    )
    if current - wanted:
        db.execute(
            sa.delete(CustomerBrand).where(
                CustomerBrand.brand_id == brand.id, CustomerBrand.customer_id.in_(current - wanted)
            )
        )
    for customer_id in sorted(wanted - current):
        row = db.get(CustomerBrand, customer_id)
        if row is None:
            db.add(CustomerBrand(customer_id=customer_id, brand_id=brand.id))
        else:
            row.brand_id = brand.id
    db.flush()
    invalidate(request)
    request.audit(
        "hosting:brand:customers",
        subject=("brand", brand.id),
        payload={"added": sorted(wanted - current), "removed": sorted(current - wanted)},
    )


def brand_image(db, digest: str) -> BrandImage | None:
    return db.get(BrandImage, digest)
