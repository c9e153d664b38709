"""Telling the transaction manager that Core statements wrote."""

from __future__ import annotations

import zope.sqlalchemy
from zope.sqlalchemy.datamanager import _SESSION_STATE


def mark_written(dbsession) -> None:
    """zope.sqlalchemy only sees ORM writes; without this a request or job whose only writes
    are Core statements (COPY, INSERT … SELECT) would be rolled back as read-only.

    Sessions not joined to a transaction manager (scripts, benchmarks, worker threads that
    commit themselves) are left alone: marking would join them to the global manager.
    """
    if dbsession in _SESSION_STATE:
        zope.sqlalchemy.mark_changed(dbsession)
