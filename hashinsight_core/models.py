"""The core's own tables: customers, accounts, their sessions, memberships and tokens."""

from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hashinsight_core.db import Base, TimestampMixin, utcnow
from hashinsight_core.scoping import Scoped

# Stored instead of a hash for invited accounts: no argon2 hash can equal it, so no password
# works until the invitation link is used.
INVITED = "!invited"  # noqa: S105 - a marker, not a password


def new_stamp() -> str:
    return secrets.token_hex(16)


CUSTOMER_STATUSES = ("active", "paused", "ended")


class Customer(Scoped, TimestampMixin, Base):
    """A customer (organization) of the hosting provider. Customers own miners, invoices,
    tickets and reports; their users reach only what their customer owns. The CRM plugin adds
    the pages to manage them, the hosting plugin the miners they own."""

    __tablename__ = "core_customers"
    __table_args__ = (sa.CheckConstraint("status IN ('active', 'paused', 'ended')", name="status"),)
    __scope__ = {"customer": "id"}

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    contact_name: Mapped[str | None] = mapped_column(sa.String(200))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(50))
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    notes: Mapped[str | None] = mapped_column(sa.Text)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "contact_name": self.contact_name,
            "contact_email": self.contact_email,
            "phone": self.phone,
            "status": self.status,
            "notes": self.notes,
            "created_at": self.created_at.isoformat() + "Z",
            "updated_at": self.updated_at.isoformat() + "Z",
        }


class User(TimestampMixin, Base):
    __tablename__ = "core_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(50), default="viewer")
    is_active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(sa.String(10))
    last_login_at: Mapped[dt.datetime | None]
    # Access period: outside [valid_from, valid_until] (UTC days) the account cannot log in.
    valid_from: Mapped[dt.date | None]
    valid_until: Mapped[dt.date | None]
    # Changing the stamp ends every session of the account at once (password change,
    # disable, role change, "log out everywhere"): each session remembers the stamp it began
    # with and stops working when they differ.
    security_stamp: Mapped[str] = mapped_column(sa.String(32), default=new_stamp)
    password_changed_at: Mapped[dt.datetime | None]
    email_verified_at: Mapped[dt.datetime | None]
    # The customer (organization) this account belongs to. Set, it limits every query the
    # account makes to that customer's data (see scoping.py); customer users must have one.
    customer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_customers.id", ondelete="RESTRICT"), index=True
    )

    @property
    def is_invited(self) -> bool:
        return self.password_hash == INVITED

    def end_all_sessions(self) -> None:
        self.security_stamp = new_stamp()

    sessions: Mapped[list[UserSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )


class UserSession(Base):
    """A login. The cookie holds a random token; only its SHA-256 is stored here."""

    __tablename__ = "core_user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("core_users.id", ondelete="CASCADE"))
    stamp: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(300))

    user: Mapped[User] = relationship(back_populates="sessions")

    __table_args__ = (sa.Index("ix_core_user_sessions_user_id", "user_id"),)


class UserToken(Base):
    """A single-use link sent by e-mail (password reset, invitation, e-mail check).

    Only the SHA-256 of the token is stored; ``used_at`` makes it single-use.
    """

    __tablename__ = "core_user_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("core_users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()

    __table_args__ = (sa.Index("ix_core_user_tokens_user_id", "user_id"),)


class ApiToken(Base):
    """A token for scripts and the Portal API: shown once, stored as a SHA-256, limited to the
    permissions chosen when it was made (and never more than its owner holds at the time)."""

    __tablename__ = "core_api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("core_users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(100))
    prefix: Mapped[str] = mapped_column(sa.String(12))  # shown in lists to tell tokens apart
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    scopes: Mapped[list] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()

    __table_args__ = (sa.Index("ix_core_api_tokens_user_id", "user_id"),)


class UserMfa(Base):
    """An account's second factor: a TOTP secret (encrypted with a key derived from the app
    secret, never stored in clear) and its hashed single-use recovery codes."""

    __tablename__ = "core_user_mfa"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("core_users.id", ondelete="CASCADE"), primary_key=True
    )
    secret_encrypted: Mapped[str] = mapped_column(sa.String(200))
    enabled_at: Mapped[dt.datetime | None]  # None while enrolment is not confirmed
    last_step: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # refuses replayed codes
    recovery_hashes: Mapped[list] = mapped_column(sa.JSON, default=list)

    user: Mapped[User] = relationship()


class Role(Base):
    """A custom role: a name and the permissions it holds (built-in roles live in code)."""

    __tablename__ = "core_roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40), unique=True)
    title: Mapped[str] = mapped_column(sa.String(100), default="")
    permissions: Mapped[list] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Membership(Base):
    """Limits an account to a site, or to one zone of a site (``zone_id`` set).

    An account with no memberships is not limited by site; with some, it sees only the data of
    those sites and zones. Sites and zones belong to the hosting plugin, so these are plain ids
    (no foreign keys into a plugin's tables); hosting removes them when a site or zone goes.
    """

    __tablename__ = "core_memberships"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "site_id", "zone_id"),
        sa.Index("ix_core_memberships_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("core_users.id", ondelete="CASCADE"))
    site_id: Mapped[int]
    zone_id: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
