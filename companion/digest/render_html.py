"""`pln digest --format html`: one self-contained page, rendered with Jinja2 (autoescape on)
from the template shipped in ``companion/digest/templates``.

Self-contained means: inline CSS, inline SVG charts drawn from the data, no scripts, no
remote fonts, images or stylesheets — nothing is fetched when the page is opened (an email
client or a phone offline shows all of it, and nobody learns that it was read). Remote
strings are escaped by the template engine; the only remote HTML (replies to you) is
sanitized by pln's sanitizer and then stripped of images, which would be remote resources.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from companion import __version__
from companion.digest.model import Activity, Digest
from companion.digest.text import (
    clean,
    display_url,
    item_title,
    period_title,
    plural,
    safe_url,
    shorten,
    totals_line,
    when,
)

CHART_W, CHART_H, CHART_PAD = 600, 110, 6


@lru_cache(maxsize=1)
def _env() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("companion.digest", "templates"),
        autoescape=True,  # every {{ }} is HTML-escaped unless it is Markup (sanitized HTML)
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(clean=clean, shorten=shorten, when=when, url=safe_url,
                       display_url=display_url)
    env.globals.update(item_title=item_title, plural=plural, totals_line=totals_line)
    return env


@lru_cache(maxsize=1)
def _no_images() -> Any:
    """A second, narrower pass over sanitized HTML: pln's tags less ``img``."""
    import nh3

    from companion.html import _ALLOWED_ATTRS, _ALLOWED_TAGS

    tags = set(_ALLOWED_TAGS) - {"img"}
    attrs = {k: v for k, v in _ALLOWED_ATTRS.items() if k in tags}
    return nh3.Cleaner(tags=tags, attributes=attrs, url_schemes={"http", "https", "mailto"},
                       link_rel="noopener noreferrer nofollow")


def remote_html(html: str) -> Any:
    """Remote HTML made safe to embed: sanitized (companion.html), no images, as Markup."""
    from markupsafe import Markup

    from companion.html import sanitize

    return Markup(_no_images().clean(clean(sanitize(html), oneline=False)))


def chart(a: Activity) -> dict[str, Any]:
    """Stacked bars (entries under statuses) per bin, in SVG user units."""
    n = max(1, len(a.labels))
    totals = [f + s for f, s in zip(a.feed, a.status, strict=True)] or [0]
    top = max(totals) or 1
    inner = CHART_H - CHART_PAD
    slot = CHART_W / n
    width = max(1.0, slot * 0.7)
    bars = []
    for i, label in enumerate(a.labels):
        f, s = a.feed[i], a.status[i]
        hf, hs = inner * f / top, inner * s / top
        x = i * slot + (slot - width) / 2
        bars.append({
            "x": round(x, 1), "w": round(width, 1), "label": label, "feed": f, "status": s,
            "yf": round(inner - hf, 1), "hf": round(hf, 1),
            "ys": round(inner - hf - hs, 1), "hs": round(hs, 1),
        })
    return {"w": CHART_W, "h": CHART_H, "base": inner, "bars": bars, "top": max(totals),
            "first": a.labels[0] if a.labels else "", "last": a.labels[-1] if a.labels else ""}


def render_html(d: Digest) -> str:
    """The digest as one HTML page."""
    to_you_html = {t.item.id: remote_html(t.html) for t in d.conversations.to_you if t.html}
    return str(_env().get_template("digest.html.j2").render(
        d=d, period=period_title(d.since, d.until), chart=chart(d.activity),
        to_you_html=to_you_html, version=__version__,
    ))
