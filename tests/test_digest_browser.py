"""The HTML digest in a real browser: headless Chromium (Debian's package, installed by
`.ci/run`) lays it out at a phone's width (390 px) and a desktop's, light and dark; the page
renders (title, content), never overflows sideways on the phone, and asks for nothing but
itself."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

from PIL import Image

from companion.models import Author, ItemData
from companion.service import Companion
from tests.chromium import Chromium
from tests.test_digest import NOW, inbox  # noqa: F401

LONG_URL = "https://lab.example/" + "a-very-long-slug-without-any-break" * 8


def ink(png: bytes) -> tuple[tuple[int, int], tuple[int, ...], float, int]:
    """(size, background colour, share of pixels that are not background, colours used)."""
    img = Image.open(io.BytesIO(png)).convert("RGB")
    data = img.tobytes()
    pixels = [data[i:i + 3] for i in range(0, len(data), 3)]
    bg = data[(2 * img.width + 2) * 3:(2 * img.width + 2) * 3 + 3]
    other = sum(1 for p in pixels if p != bg)
    return img.size, tuple(bg), other / len(pixels), len(set(pixels))


def test_digest_renders_on_a_phone_and_a_desktop_in_chromium(
        cli: Any, inbox: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    c = Companion()
    with c.writing("test"):  # long unbreakable strings are what overflow a phone's screen
        c._store_items("lab001", (ItemData(
            key=LONG_URL, kind="feed", url=LONG_URL, link=LONG_URL, title="x" * 300,
            author=Author("Lab"), published=NOW - timedelta(hours=1)),), NOW)
    page_file = tmp_path / "digest.html"
    cli("digest", "--since", "7d", "-o", str(page_file))

    with Chromium(tmp_path) as browser:
        phone = browser.open(page_file, width=390, height=844, mobile=True)
        title = phone.evaluate("document.title")
        assert title.startswith("pln digest · ") and title.endswith(" UTC")
        assert phone.evaluate("document.querySelector('h1').textContent") == "Your network"
        sections = phone.evaluate("[...document.querySelectorAll('h2')].map(h => h.textContent)")
        assert sections == ["Most shared", "New from followed sites", "Conversations", "Voices",
                            "Your learning"]
        # no sideways scrolling at 390 px: nothing is laid out wider than the screen
        width = phone.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth,"
                               " document.body.scrollWidth]")
        assert width == [390, 390, 390]
        widest = phone.evaluate(
            "Math.max(...[...document.querySelectorAll('body *')].map(e => e.getBoundingClientRect().right))")
        assert widest <= 390
        assert phone.requested() == [page_file.resolve().as_uri()]  # nothing else fetched
        shot = phone.screenshot()
        (tmp_path / "digest-390.png").write_bytes(shot)
        size, bg, share, colours = ink(shot)
        assert size == (390, 844)
        assert sum(bg) > 600  # light background …
        assert share > 0.04 and colours > 30  # … with text and a chart on it: not blank

        desktop = browser.open(page_file, width=1280, height=900)
        assert desktop.evaluate("document.documentElement.scrollWidth") == 1280
        # the column is centred and readable: no wider than 46rem
        assert desktop.evaluate("document.querySelector('main').getBoundingClientRect().width") <= 46 * 16
        shot = desktop.screenshot()
        (tmp_path / "digest-1280.png").write_bytes(shot)
        size, bg, share, colours = ink(shot)
        assert size == (1280, 900) and share > 0.03 and colours > 30

        dark = browser.open(page_file, width=390, height=844, mobile=True, dark=True)
        size, bg, share, colours = ink(dark.screenshot())
        assert sum(bg) < 120  # prefers-color-scheme: dark gives a dark page
        assert share > 0.04
        assert dark.evaluate("document.documentElement.scrollWidth") == 390
