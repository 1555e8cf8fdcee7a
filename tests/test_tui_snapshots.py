"""Snapshots of `pln tui`'s screens (pytest-textual-snapshot), at 80×24 and 160×48, with
hostile titles and bodies in the inbox: escape sequences, bidi overrides and markup from a
feed or a status show as text, never as style. NO_COLOR (set for every test) gives the
monochrome screens; the theme snapshots run with colour, light and dark.

Update them after a deliberate change of the screens with
``python -m pytest tests/test_tui_snapshots.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from companion.inbox import ItemFilter
from companion.tui.app import PlnApp
from companion.tui.session import Session
from tests.test_tui import NOW, seed

SIZES = [(80, 24), (160, 48)]


def app(theme: str | None = None, flt: ItemFilter | None = None) -> PlnApp:
    return PlnApp(Session(flt or ItemFilter(), clock=lambda: NOW), theme=theme)


async def _loaded(pilot: Any) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_inbox_with_hostile_content(pln_home: Path, snap_compare: Any, size: tuple[int, int]) -> None:
    seed(pln_home, hostile=True, settings='tui_mark_read = "manual"')
    assert snap_compare(app(), terminal_size=size, run_before=_loaded)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_hostile_status_with_its_cw_revealed(pln_home: Path, snap_compare: Any,
                                             size: tuple[int, int]) -> None:
    seed(pln_home, hostile=True, settings='tui_mark_read = "manual"')

    async def run(pilot: Any) -> None:
        await _loaded(pilot)
        await pilot.press("j", "w")  # mallory's status: its CW, then its text
        await pilot.pause()

    assert snap_compare(app(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_story_in_the_reading_pane(pln_home: Path, snap_compare: Any, size: tuple[int, int]) -> None:
    seed(pln_home, settings='tui_mark_read = "manual"')

    async def run(pilot: Any) -> None:
        await _loaded(pilot)
        await pilot.press("j", "s")  # the story, starred
        await pilot.pause()

    assert snap_compare(app(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_keys(pln_home: Path, snap_compare: Any, size: tuple[int, int]) -> None:
    seed(pln_home, settings='tui_mark_read = "manual"')

    async def run(pilot: Any) -> None:
        await _loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(app(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_composer(pln_home: Path, snap_compare: Any, size: tuple[int, int]) -> None:
    seed(pln_home, settings='tui_mark_read = "manual"')  # no account: the composer says so

    async def run(pilot: Any) -> None:
        await _loaded(pilot)
        await pilot.press("j", "c")
        await pilot.pause()
        await pilot.press(*"Paper strips make fractions visible.")
        await pilot.pause()

    assert snap_compare(app(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_links_and_sources_views(pln_home: Path, snap_compare: Any, size: tuple[int, int]) -> None:
    seed(pln_home, settings='tui_mark_read = "manual"')

    async def run(pilot: Any) -> None:
        await _loaded(pilot)
        await pilot.press("L")
        await pilot.pause()

    assert snap_compare(app(), terminal_size=size, run_before=run)

    async def sources(pilot: Any) -> None:
        await _loaded(pilot)
        await pilot.press("R")
        await pilot.pause()

    assert snap_compare(app(), terminal_size=size, run_before=sources)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_themes_in_colour(pln_home: Path, snap_compare: Any, monkeypatch: pytest.MonkeyPatch,
                          theme: str) -> None:
    monkeypatch.delenv("NO_COLOR")
    seed(pln_home, hostile=True, settings='tui_mark_read = "manual"')

    async def run(pilot: Any) -> None:
        await _loaded(pilot)
        await pilot.press("j", "j")
        await pilot.pause()

    assert snap_compare(app(theme), terminal_size=(160, 48), run_before=run)
