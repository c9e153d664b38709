"""Password hashing and the password rules (OWASP ASVS 5.0, chapter 6).

argon2id at OWASP's first profile (19 MiB, 2 passes, 1 lane); a hash made with older
parameters is upgraded at the next successful login. Rules: 12 to 128 characters, any
characters, no composition rules, not one of the 30,000 most common passwords, and not easy
to guess by zxcvbn's estimate (score 2 or more: common words with digits added, keyboard
runs, repeats, dates). Both come from the zxcvbn package, so no network is needed.
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pyramid.i18n import TranslationStringFactory

MIN_LENGTH = 12
MAX_LENGTH = 128

hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


_ = TranslationStringFactory("hashinsight")


class WeakPassword(ValueError):
    """The password breaks a rule; ``message`` (a translation string) says which."""

    def __init__(self, message):
        super().__init__(message.interpolate())
        self.message = message


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_password(password: str, email: str = "") -> None:
    """Raise :class:`WeakPassword` if ``password`` may not be used."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(
            _(
                "The password must be at least ${count} characters long.",
                mapping={"count": MIN_LENGTH},
            )
        )
    if len(password) > MAX_LENGTH:
        raise WeakPassword(
            _(
                "The password must be at most ${count} characters long.",
                mapping={"count": MAX_LENGTH},
            )
        )
    folded = password.strip().lower()
    if folded in common_passwords() or len(set(folded)) <= 2:
        raise WeakPassword(_("This password is too common. Please choose another."))
    local = email.split("@")[0].lower()
    if len(local) >= 4 and local in folded and len(folded) - len(local) < 6:
        raise WeakPassword(_("The password is too close to the e-mail address."))
    from zxcvbn import zxcvbn

    # zxcvbn slows down on very long input; the first 64 characters decide anyway.
    if zxcvbn(password[:64], user_inputs=[email, local])["score"] < 2:
        raise WeakPassword(_("This password is too easy to guess. Try a few unrelated words."))
