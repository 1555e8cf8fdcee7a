"""The fast paths of feed normalization agree with the reference functions they replace."""

from __future__ import annotations

import warnings

import feedparser

from companion import html as reference
from companion.sources.feed_parse import sanitize
from companion.html import fast_text
from tests.test_feed_corpus import FILES, load

SAMPLES = [
    "<p>a <b>b</b>  c</p><p> d </p>", "x<p>a</p>y", "a<br>b<br> c", "<p>a<br><br>b</p>",
    "a &amp; &nbsp;b &lt;", "<p>a</p>\n\n<p>b</p>", "<p></p><p>a</p>", ' <a href="x">l</a> t',
    "a<br/>", "<p>x</p>   tail", "<b>x</b><p>y</p>z", "&#32;a&#10;b", "<p>a\tb\nc</p>",
    "<p>a</p><br><p>b</p>", "<br><br>a", "a<br><br><br><br>b", "<p>x<br></p><p>y</p>",
    '<span> </span>a', 'a<img src="https://x/i.png" alt="pic">b', "a &lt;b&gt; c",
    "<p>1 &gt; 0</p>", "<ul><li>one</li></ul>", "<blockquote>q</blockquote>",
    '<p onclick="x()">Body<script>alert(1)</script></p>',
]


def corpus_html() -> list[str]:
    out = list(SAMPLES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in FILES:
            if path.suffix != ".xml":
                continue
            body, _headers = load(path)
            for e in feedparser.parse(body, sanitize_html=False).entries:
                out.extend(c.get("value") or "" for c in e.get("content") or [])
                out.append(e.get("summary") or "")
                out.append(e.get("title") or "")
    return [h for h in out if h]


def test_sanitize_and_fast_text_agree_with_reference() -> None:
    fast = 0
    for raw in corpus_html():
        clean = sanitize(raw)
        assert clean == reference.sanitize(raw), raw
        text = fast_text(clean)
        if text is not None:
            fast += 1
            assert text == reference.to_text(clean), clean
    assert fast > 1000
