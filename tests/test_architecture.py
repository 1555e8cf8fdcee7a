"""The shape STYLE.md asks for, checked: a library with a thin CLI, storage behind one class,
and a start-up that does not pay for the network libraries."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "companion"


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_cli_imports_typer_and_rich() -> None:
    offenders = [
        str(p.relative_to(PKG))
        for p in PKG.rglob("*.py")
        if "cli" not in p.relative_to(PKG).parts and imports_of(p) & {"typer", "rich", "click"}
    ]
    assert offenders == []


def test_only_the_store_imports_tinydb() -> None:
    users = sorted(str(p.relative_to(PKG)) for p in PKG.rglob("*.py") if "tinydb" in imports_of(p))
    assert users and all(u.startswith("store/") for u in users), users


@pytest.mark.parametrize(
    ("args", "heavy"),
    [
        # --help pays for nothing but the CLI itself
        (["--help"], ("mastodon", "feedparser", "requests", "tomlkit", "tinydb", "pydantic",
                      "listparser", "inscriptis", "nh3", "filelock", "jinja2")),
        # the listing reads the store, never the network or the editing libraries
        (["inbox"], ("mastodon", "feedparser", "requests", "tomlkit", "pydantic", "filelock",
                     "jinja2")),
        # only the HTML digest needs the template engine
        (["digest", "--format", "json", "--no-mark"], ("mastodon", "feedparser", "requests",
                                                       "tomlkit", "jinja2")),
    ],
)
def test_commands_do_not_import_what_they_do_not_need(
    tmp_path: Path, args: list[str], heavy: tuple[str, ...]
) -> None:
    code = (
        f"import sys; sys.argv = ['pln', *{args!r}]\n"
        "from companion.cli.app import app\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        f"print('HEAVY', sorted(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)\n"
    )
    env = {**os.environ, "PLN_HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       cwd=PKG.parent)
    assert "HEAVY []" in r.stderr, r.stderr
