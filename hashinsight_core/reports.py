"""Report sections that plugins contribute (rendered to PDF/Excel/PowerPoint later)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ReportSection:
    name: str  # "<plugin>.<section>"
    title: str  # a translation string
    permission: str
    build: Callable  # build(request, period) -> {"columns": [...], "rows": [[...], ...]}


def report_sections(registry) -> list[ReportSection]:
    sections: list[ReportSection] = []
    for plugin_sections in registry.plugin_manager.hook.hashinsight_reports():
        sections.extend(plugin_sections or ())
    return sorted(sections, key=lambda s: s.name)
