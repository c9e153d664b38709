"""Errors that services raise; the core turns them into 4xx answers (JSON or page)."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    status = 422
    code = "invalid_input"


class Conflict(DomainError):
    status = 409
    code = "conflict"
