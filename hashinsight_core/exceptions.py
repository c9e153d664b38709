"""Errors that services raise; the core turns them into 4xx answers (JSON or page)."""

from __future__ import annotations


class DomainError(Exception):
    """``message`` is shown to a person: a translation string (``_("…", mapping=…)``) so the
    answer is in their language; the core translates it (``errors.py``), and ``str(error)``
    is its English text with the values filled in (logs, the CLI without a request)."""

    status = 400
    code = "bad_request"

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return english(self.message)


def english(message) -> str:
    """A message's English text with its values filled in, values that are translation
    strings themselves included."""
    if not hasattr(message, "interpolate"):
        return str(message)
    if message.mapping:
        mapping = {key: english(value) for key, value in message.mapping.items()}
        return type(message)(message, mapping=mapping).interpolate()
    return message.interpolate()


class InvalidInput(DomainError):
    status = 422
    code = "invalid_input"


class Conflict(DomainError):
    status = 409
    code = "conflict"
