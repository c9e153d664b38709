"""Alembic, one history for the core and every plugin.

Each area keeps its revisions in its own folder on its own branch: the core in
``hashinsight_core/migrations/versions`` (branch ``core``), a plugin in a ``migrations``
folder beside its ``hooks`` module (branch = the plugin's name). Every installed plugin's
folder is known to alembic, so a database that once had a plugin enabled still resolves, but
``upgrade`` only moves the core and the *enabled* plugins to their heads.
"""

from __future__ import annotations

import os
import tempfile
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from hashinsight_core.plugins import ENTRY_POINT_GROUP

CORE_DIR = Path(__file__).parent / "migrations"


def plugin_version_dirs() -> dict[str, Path]:
    """Every installed plugin that ships migrations -> its versions folder."""
    found: dict[str, Path] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        package = ep.module.rpartition(".")[0] or ep.module
        module = import_module(package)
        folder = Path(module.__file__).parent / "migrations"
        if folder.is_dir():
            found[ep.name] = folder
    return found


def alembic_config(url: str, connection=None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(CORE_DIR))
    locations = [str(CORE_DIR / "versions")] + [str(p) for p in plugin_version_dirs().values()]
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(locations))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


def branches_for(cfg: Config, plugin_names: list[str]) -> list[str]:
    """The core and those of ``plugin_names`` that have revisions, in the order given."""
    script = ScriptDirectory.from_config(cfg)
    labels = {label for rev in script.walk_revisions() for label in rev.branch_labels}
    return ["core"] + [name for name in plugin_names if name in labels]


def upgrade(url: str, plugin_names: list[str], connection=None) -> list[str]:
    """Bring the core and the named plugins to their newest revision; return the branches."""
    cfg = alembic_config(url, connection)
    branches = branches_for(cfg, plugin_names)
    for branch in branches:
        command.upgrade(cfg, f"{branch}@head")
    return branches


def revision(branch: str, message: str, autogenerate: bool = True) -> None:
    """Write a new revision on ``branch`` (a plugin name or ``core``).

    Autogenerate compares the models with a scratch SQLite database brought to every
    installed branch's head, so no real database is needed and other branches' tables are
    never picked up (``env.py`` keeps only the branch's own tables).
    """
    folder = CORE_DIR / "versions" if branch == "core" else plugin_version_dirs().get(branch)
    if folder is None:
        raise ValueError(f"plugin '{branch}' is not installed or has no migrations folder")
    with tempfile.TemporaryDirectory() as scratch:
        cfg = alembic_config(f"sqlite:///{scratch}/scratch.sqlite")
        cfg.attributes["only_branch"] = branch
        command.upgrade(cfg, "heads")
        script = ScriptDirectory.from_config(cfg)
        labels = {label for rev in script.walk_revisions() for label in rev.branch_labels}
        starting = branch not in labels
        command.revision(
            cfg,
            message=message,
            autogenerate=autogenerate,
            head="base" if starting else f"{branch}@head",
            branch_label=branch if starting else None,
            version_path=str(folder),
            depends_on="core@head" if starting and branch != "core" else None,
        )
