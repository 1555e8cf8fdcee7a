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


def test_only_the_front_ends_import_typer_rich_and_textual() -> None:
    """The library works without a terminal: only the CLI and the TUI draw on one."""
    offenders = [
        str(p.relative_to(PKG))
        for p in PKG.rglob("*.py")
        if p.relative_to(PKG).parts[0] not in ("cli", "tui")
        and imports_of(p) & {"typer", "rich", "click", "textual"}
    ]
    assert offenders == []


def test_textual_only_in_the_tui_and_typer_only_in_the_cli() -> None:
    textual = sorted(str(p.relative_to(PKG)) for p in PKG.rglob("*.py")
                     if "textual" in imports_of(p))
    typer = sorted(str(p.relative_to(PKG)) for p in PKG.rglob("*.py")
                   if imports_of(p) & {"typer", "click"})
    assert textual and all(t.startswith("tui/") for t in textual), textual
    assert typer and all(t.startswith("cli/") for t in typer), typer


def _module(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """companion module -> the companion modules it imports (anywhere in it: in functions
    and under TYPE_CHECKING too; ``from pkg import submodule`` counts as the submodule)."""
    mods = {_module(p): p for p in PKG.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                subs = [f"{node.module}.{a.name}" for a in node.names
                        if f"{node.module}.{a.name}" in mods]
                deps.update(subs or [node.module])
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
        graph[name] = {d for d in deps if d in mods and d != name}
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


# Left for the owner of feed parsing (issue 14 reworks it): feed_parse dispatches to the
# fast path, which borrows feed_parse's helpers. Nothing may join this list.
KNOWN_CIRCLES = [["companion.sources.feed_fast", "companion.sources.feed_parse"]]


def test_no_import_circles() -> None:
    """A lower module never reaches up (STYLE.md), not even for a type hint."""
    assert sorted(_circles(_import_graph())) == KNOWN_CIRCLES


def test_the_library_never_imports_its_front_ends() -> None:
    """Only the front ends use the facade (companion.service); nothing below them imports
    the CLI or the TUI, and the TUI reaches the library, never the CLI."""
    graph = _import_graph()
    front = ("companion.cli", "companion.tui")
    for mod, deps in graph.items():
        if mod.startswith(front) or mod == "companion.__main__":  # (python -m companion)
            if mod.startswith("companion.tui"):
                assert not {d for d in deps if d.startswith("companion.cli")}, mod
            continue
        assert not {d for d in deps if d.startswith(front)}, mod
        if mod != "companion.service":
            assert "companion.service" not in deps, mod


def test_only_the_store_imports_tinydb() -> None:
    users = sorted(str(p.relative_to(PKG)) for p in PKG.rglob("*.py") if "tinydb" in imports_of(p))
    assert users and all(u.startswith("store/") for u in users), users


@pytest.mark.parametrize(
    ("args", "heavy"),
    [
        # --help pays for nothing but the CLI itself
        (["--help"], ("mastodon", "feedparser", "requests", "tomlkit", "tinydb", "pydantic",
                      "listparser", "inscriptis", "nh3", "filelock", "jinja2", "textual")),
        # the listing reads the store, never the network or the editing libraries
        (["inbox"], ("mastodon", "feedparser", "requests", "tomlkit", "pydantic", "filelock",
                     "jinja2", "textual")),
        (["inbox", "--json"], ("mastodon", "feedparser", "requests", "textual")),
        (["source", "list"], ("mastodon", "feedparser", "requests", "textual")),
        (["journal"], ("textual",)),
        # only the HTML digest needs the template engine
        (["digest", "--format", "json", "--no-mark"], ("mastodon", "feedparser", "requests",
                                                       "tomlkit", "jinja2", "textual")),
        # only `pln tui` pays for Textual
        (["tui", "--help"], ("mastodon", "feedparser", "requests", "textual")),
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
