"""The rules of the HTML text functions, against independent references: inscriptis (the
renderer ``fast_text`` stands in for) and the stdlib's HTML parser (what the words of a page
are, which links it has)."""

from __future__ import annotations

import html as htmlmod
import random
from html.parser import HTMLParser

import pytest

from companion.html import fast_text, html_to_text, links, plain_words, sanitize, summary, to_text

# ----- rendered text ---------------------------------------------------------------------------


@pytest.mark.parametrize(("html", "text"), [
    ("", ""), ("   plain text  ", "plain text"), ("a &amp; b", "a & b"),
    ("<p>One</p><p>Two</p>", "One\n\nTwo"),
    ("<p>One<br>two</p>", "One\ntwo"),
    ("<p>a</p>\n\n\n\n<p>b</p>", "a\n\nb"),
    ("<p>a</p><p></p><p></p><p>b</p>", "a\n\nb"),  # empty paragraphs make no blank lines
    ("<p>  lots   of\n  space </p>", "lots of space"),
    ('<p>see <a href="https://x.example/">this</a></p>', "see this"),  # no URLs in the text
    ('<p>a <img src="https://x.example/i.png" alt="pic"> b</p>', "a b"),  # nor images
    ("<h1>Title</h1><p>body</p>", "Title\n\nbody"),
])  # fmt: skip
def test_rendered_text(html: str, text: str) -> None:
    assert to_text(html) == text
    assert html_to_text(html) == text


def test_lists_render_an_item_a_line_each_indented_alike() -> None:
    assert to_text("<ul><li>one</li><li>two</li></ul>") == "  * one\n  * two"
    assert to_text("<p>a</p><ul><li>x</li></ul>") == "a\n\n  * x"
    assert to_text("<pre>  x  \n  y</pre>") == "  x\n  y"  # preformatted layout kept


def test_no_line_ends_in_spaces() -> None:
    text = to_text("<table><tr><td>a</td><td>bbbb</td></tr><tr><td>c</td><td>d</td></tr></table>")
    assert text == "a  bbbb\nc  d"


def test_to_text_of_nothing() -> None:
    assert to_text(None) == "" and to_text("") == ""
    assert html_to_text("") == ""


def test_fast_text_takes_only_simple_markup() -> None:
    for html in ("<ul><li>x</li></ul>", "<blockquote>q</blockquote>", "<h2>t</h2>", "<pre>x</pre>",
                 "<table><tr><td>x</td></tr></table>", "<div>x</div>", "<!-- c -->x",
                 "<?xml?>x", "a \ue000 <b>b</b>", "a \ue001 <b>b</b>", "<p>a</p>>b", "a<b"):
        assert fast_text(html) is None, html
    for html in ("<P>x</P>", "<B>x</b>", "<p>x</P>", "<Br>", "<SPAN>x</SPAN>", "<a href='x'>y</a>",
                 "<em>a</em> <strong>b</strong> <i>c</i> <code>d</code> <small>e</small>",
                 "<sub>1</sub><sup>2</sup><u>u</u><s>s</s><del>d</del><abbr>a</abbr>",
                 '<img src="https://x.example/i.png" alt="i">', "a<img/>b"):
        assert fast_text(html) is not None, html
    every = "".join(f"<{t}>x</{t}>" for t in ("p", "a", "b", "strong", "i", "em", "code", "span",
                                            "small", "sub", "sup", "u", "s", "del", "abbr"))
    every += "<br><img>"
    assert fast_text(every) == to_text(every)  # all the simple tags at once
    assert fast_text(every.upper()) == to_text(every.upper())  # in capitals too


def test_fast_text_keeps_markers_out_of_entities() -> None:
    # an entity that decodes to the private-use marker characters is text, not a break
    assert fast_text("<p>a &#57344; b</p><p>c&#57345;d</p>") == "a \ue000 b\n\nc\ue001d"
    assert fast_text("<p>x&#57344;y</p>") == "x\ue000y"
    assert fast_text("a&#57345;b<br>c") == "a\ue001b\nc"


_PIECES = ["<p>", "</p>", "<br>", "<br/>", "<b>", "</b>", "<i>", "</i>", "<em>", "</em>",
           "<span>", "</span>", "<code>", "</code>", '<a href="https://x.example/">', "</a>",
           '<img src="https://x.example/i.png" alt="i">', "word", "Wörter", "a", "  ", " ", "\n",
           "\n\n", "\t", "&amp;", "&lt;", "&gt;", "&nbsp;", "&#32;", "&#10;", "&eacute;", ".",
           "<P>", "</P>", "<BR>", "<ul><li>", "</li></ul>", "<blockquote>", "</blockquote>"]


def test_fast_text_agrees_with_inscriptis_on_random_html() -> None:
    rnd = random.Random(19)
    taken = 0
    for _ in range(1500):
        html = sanitize("".join(rnd.choice(_PIECES) for _ in range(rnd.randint(1, 25))))
        fast = fast_text(html)
        if fast is not None:
            taken += 1
            assert fast == to_text(html), repr(html)
        assert html_to_text(html) == to_text(html), repr(html)
    assert taken > 500


# ----- words -------------------------------------------------------------------------------

_BLOCKS = {"p", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "div", "blockquote", "pre", "tr",
           "td", "th", "table", "thead", "tbody", "ul", "ol", "hr", "figure", "figcaption"}


class _Words(HTMLParser):
    """The words of a page as a browser shows them: block elements separate words, inline
    ones do not; scripts, styles and comments are no words."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style"):
            self.hidden += 1
        if tag in _BLOCKS:
            self.out.append(" ")

    def handle_startendtag(self, tag: str, attrs: object) -> None:
        if tag in _BLOCKS:
            self.out.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.hidden = max(0, self.hidden - 1)
        if tag in _BLOCKS:
            self.out.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.out.append(data)


def reference_words(html: str) -> list[str]:
    p = _Words()
    p.feed(html)
    p.close()
    return "".join(p.out).split()


@pytest.mark.parametrize("html", [
    "<p>Peer de<b>sign</b> &amp; feed<i>back</i></p><ul><li>one</li><li>two</li></ul>",
    "<P>a</P><P>b<B>c</B></P>", "<DIV>a</DIV><Div>b</Div>", "a<br>b<BR/>c<hr>d",
    "<h1>T</h1><h6>U</h6><table><tr><td>x</td><th>y</th></tr></table>",
    "<blockquote>q</blockquote><pre>p</pre><figure>f<figcaption>c</figcaption></figure>",
    "<ol><li>1</li></ol><thead>h</thead><tbody>b</tbody>",
    "Keep<script>no()</script>this<style>p{}</style><!-- not -->too",
    "<SCRIPT>no</SCRIPT>yes<Style>no</Style>", "a<!-- c -->b", "<p>a</p><!-- c --><p>b</p>",
    "&eacute;l&egrave;ve &lt;3 &#x41;", "no markup at all",
    "<span>in</span><span>line</span>", '<a href="x">li</a>nk', "<p>a</p>\n<p>b</p>",
])  # fmt: skip
def test_plain_words_are_the_words_a_browser_shows(html: str) -> None:
    assert plain_words(html).split() == reference_words(html)


def test_plain_words_agree_with_the_html_parser_on_random_html() -> None:
    rnd = random.Random(12)
    pieces = _PIECES + ["<script>x = 1 < 2</script>", "<style>p { }</style>", "<!-- c -->",
                        "<div>", "</div>", "<LI>", "</LI>", "<td>", "<h2>", "</h2>", "<hr>",
                        "<SCRIPT type='x'>y</SCRIPT>"]
    for _ in range(1500):
        html = "".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 20)))
        assert plain_words(html).split() == reference_words(html), repr(html)


@pytest.mark.parametrize("html", ["a <script>never closed", "a <!-- never closed",
                                  "a <style>never closed"])
def test_an_unclosed_script_style_or_comment_hides_the_rest(html: str) -> None:
    # as a browser reads it (HTML: "EOF in comment/script"); nh3 does the same
    assert plain_words(html).split() == ["a"] == to_text(sanitize(html)).split()


def test_plain_words_keep_whitespace_and_a_lone_less_than() -> None:
    assert plain_words("a\n\nb") == "a\n\nb"  # whitespace left as it is
    assert plain_words("3 < 4 and 5<6") == "3 < 4 and 5<6"  # not a tag
    assert plain_words("x</p>y").split() == ["x", "y"]


# ----- summaries -----------------------------------------------------------------------------


def test_summary_reads_on_past_a_long_run_of_whitespace() -> None:
    assert summary("a" + " " * 20 + "bcdefghi", 10) == "a bcdefghi"
    assert summary("a" + " " * 40 + "bcdefghijk", 10) == "a bcdefghi"


def test_summary_is_the_first_characters_with_whitespace_collapsed() -> None:
    assert summary("  Peer\n\n design   &\tfeedback ", 200) == "Peer design & feedback"
    assert summary("word " * 100, 12) == "word word wo"
    assert summary("abcdef", 6) == "abcdef"
    assert summary("abcdefg", 6) == "abcdef"
    assert summary("", 10) == ""
    assert summary(" " * 5000 + "late words", 200) == "late words"  # mostly whitespace
    assert summary(" " * 29 + "x" * 10, 10) == "x" * 10
    assert summary(" " * 30 + "abc", 10) == "abc"  # past 3x the limit: all of it is read
    assert summary("ab" + " " * 28 + "cd", 10) == "ab cd"


# ----- links ---------------------------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, tuple[str, ...]]] = []
        self.current: list[object] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            a = dict(attrs)
            self.current = [a.get("href"), [], tuple((a.get("class") or "").split())]

    def handle_data(self, data: str) -> None:
        if self.current is not None:
            self.current[1].append(data)  # type: ignore[attr-defined]

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.current is not None:
            href, text, classes = self.current
            if href:
                self.found.append((href, "".join(text).strip(), classes))  # type: ignore[arg-type]
            self.current = None


def test_links_in_document_order_with_text_and_classes() -> None:
    html = ('<p>Hi <a href="https://m.example/@bob" class="u-url mention">@<span>bob</span></a> '
            'see <A HREF="https://blog.example/p?a=1&amp;b=2">the <b>post</b> </A> '
            '<a href="https://m.example/tags/edtech" class="mention hashtag">#edtech</a>'
            '<a name="anchor">no href</a><a href="">empty</a><a href="/rel">rel</a></p>')
    got = links(html)
    assert got == [
        ("https://m.example/@bob", "@bob", ("u-url", "mention")),
        ("https://blog.example/p?a=1&b=2", "the post", ()),
        ("https://m.example/tags/edtech", "#edtech", ("mention", "hashtag")),
        ("/rel", "rel", ()),
    ]
    p = _Links()
    p.feed(html)
    assert got == p.found
    assert links("") == [] and links(None) == [] and links("<p>no links</p>") == []
    assert links("<p>a &lt;a href=x&gt; in text</p>") == []


def test_links_agree_with_the_html_parser_on_random_html() -> None:
    rnd = random.Random(5)
    pieces = ['<a href="https://x.example/1">', '<a href="https://x.example/2" class="mention">',
              "<A HREF='/3'>", "<a>", '<a href="">', "</a>", "</A>", "text", " ", "<b>", "</b>",
              "&amp;", "<p>", "</p>", '<a class="hashtag u-url" href="#t">']
    for _ in range(1000):
        html = "".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 12)))
        ref = _Links()
        ref.feed(html)
        ref.close()
        assert links(html) == ref.found, html


def test_entities_in_link_text_and_href_are_decoded() -> None:
    assert links('<a href="https://x.example/?a=1&amp;b=2">R&amp;D &eacute;</a>') == [
        ("https://x.example/?a=1&b=2", "R&D é", ())]
    assert htmlmod.unescape("&eacute;") == "é"
