"""Roles: the five built-in ones (grants declared by the plugins) and custom ones in the
database, made by owners from the permissions of the enabled plugins.

A custom role's permissions are checked against what is declared now: a permission of a
plugin that was switched off is simply not granted. Built-in roles cannot be edited: their
grants are the plugins' reviewed defaults (see ``tests/authz_matrix.txt``); an owner who
wants a variation makes a custom role from one.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from pyramid.i18n import TranslationStringFactory

from hashinsight_core.exceptions import Conflict, InvalidInput
from hashinsight_core.models import Role, User
from hashinsight_core.security import ANONYMOUS, BUILTIN_ROLES

_ = TranslationStringFactory("hashinsight")
NAME = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")


def custom_roles(dbsession) -> list[Role]:
    return list(dbsession.scalars(sa.select(Role).order_by(Role.name)))


def role_names(dbsession) -> list[str]:
    return list(BUILTIN_ROLES) + [r.name for r in custom_roles(dbsession)]


def declared(registry) -> dict[str, str]:
    """permission -> description, for every permission the enabled plugins declare."""
    return {str(s.permission): s.description for s in registry["permission_specs"]}


def grouped(registry) -> dict[str, list[tuple[str, str]]]:
    """Permissions grouped by the area that declares them (the part before the first ':')."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for permission, description in sorted(declared(registry).items()):
        groups.setdefault(permission.split(":")[0], []).append((permission, description))
    return groups


def builtin_grants(registry, role: str) -> list[str]:
    if role == "owner":
        return sorted(declared(registry))
    return sorted(str(s.permission) for s in registry["permission_specs"] if role in s.roles)


def save_role(request, name: str, title: str, permissions: list[str], role: Role | None = None):
    known = declared(request.registry)
    name = (name or "").strip().lower()
    if role is None:
        if not NAME.match(name):
            raise InvalidInput(
                _(
                    "A role name has 2 to 40 small letters, digits, - or _ and starts with "
                    "a letter."
                ),
                "name",
            )
        if (
            name in BUILTIN_ROLES
            or name == ANONYMOUS
            or request.dbsession.scalar(sa.select(Role.id).where(Role.name == name))
        ):
            raise Conflict(_("A role with this name already exists."), "name")
    unknown = sorted(set(permissions) - set(known))
    if unknown:
        raise InvalidInput(
            _("Unknown permission: ${name}", mapping={"name": unknown[0]}), "permissions"
        )
    if len(title or "") > 100:
        raise InvalidInput(_("The title must be at most 100 characters."), "title")
    if role is None:
        role = Role(name=name)
        request.dbsession.add(role)
    role.title = (title or "").strip()
    role.permissions = sorted(set(permissions))
    request.dbsession.flush()
    return role


def delete_role(request, role: Role) -> None:
    in_use = request.dbsession.scalar(
        sa.select(sa.func.count()).select_from(User).where(User.role == role.name)
    )
    if in_use:
        raise Conflict(
            _(
                "${count} account(s) still have this role. Give them another role first.",
                mapping={"count": in_use},
            ),
            "name",
        )
    request.dbsession.delete(role)


def acl_for_role(request, role_name: str) -> list[tuple]:
    """Extra ACL entries when ``role_name`` is a custom role (none for built-in ones)."""
    from pyramid.authorization import Allow

    if role_name in BUILTIN_ROLES:
        return []
    role = request.dbsession.scalar(sa.select(Role).where(Role.name == role_name))
    if role is None:
        return []
    known = declared(request.registry)
    return [(Allow, f"role:{role.name}", p) for p in role.permissions if p in known]


def assignable(request, actor: User) -> list[str]:
    """Roles ``actor`` may give to others: owners any; admins the built-in roles below owner
    and custom roles that hold nothing an admin does not hold (no way to climb)."""
    if actor.role == "owner":
        return role_names(request.dbsession)
    if actor.role != "admin":
        return []
    admin_grants = set(builtin_grants(request.registry, "admin"))
    return [r for r in BUILTIN_ROLES if r != "owner"] + [
        r.name for r in custom_roles(request.dbsession) if set(r.permissions) <= admin_grants
    ]
