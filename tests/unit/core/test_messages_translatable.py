"""Every message a service raises for a person can be shown in Chinese.

Services raise ``DomainError`` (and its subclasses) with a message the core shows on the page
or in the JSON error. A plain string or an f-string cannot be translated; the message must
be ``_("…", mapping={…})`` (the catalog test then makes sure it has its Chinese).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SOURCES = [ROOT / "hashinsight_core", ROOT / "plugins"]
BASES = {"DomainError", "InvalidInput", "Conflict"}


def python_files():
    for folder in SOURCES:
        for path in sorted(folder.rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def error_classes() -> set[str]:
    """DomainError and every class that derives from it, by name, across the code."""
    names = set(BASES)
    pattern = re.compile(r"^class (\w+)\((?:\w+\.)?(\w+)\)", re.M)
    pairs = [m.groups() for p in python_files() for m in pattern.finditer(p.read_text())]
    grew = True
    while grew:
        grew = False
        for name, base in pairs:
            if base in names and name not in names:
                names.add(name)
                grew = True
    return names


def called_name(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def untranslatable(node: ast.expr) -> bool:
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    if isinstance(node, ast.BinOp):  # "a" + b, "a %s" % b
        return untranslatable(node.left) or untranslatable(node.right)
    return False


def test_errors_shown_to_people_carry_translatable_messages():
    classes = error_classes()
    problems = []
    for path in python_files():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and called_name(node) in classes):
                continue
            message = node.args[0] if node.args else None
            for keyword in node.keywords:
                if keyword.arg == "message":
                    message = keyword.value
            if message is not None and untranslatable(message):
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                problems.append(f"{where}: {ast.unparse(message)[:80]}")
    assert not problems, "messages that cannot be translated (use _() with mapping):\n" + (
        "\n".join(problems)
    )


def test_the_check_finds_plain_and_formatted_messages():
    tree = ast.parse('InvalidInput("no"); Conflict(f"x {y}"); InvalidInput(_("yes"))')
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and called_name(n) in BASES]
    assert [untranslatable(c.args[0]) for c in calls] == [True, True, False]
