"""The reading pane's content: one item in full, as a rich Text (never markup).

What `pln show` shows, laid out for a pane: the title, who and when, the CW (the text stays
hidden until it is revealed), the body rendered from its sanitized HTML, images as their alt
text, the links it contains, who boosted and who shared it, and the thread it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from companion.read_models import Item
from companion.textsafe import clean
from companion.tui.richtext import html_to_rich, plain_to_rich


@dataclass(frozen=True)
class Reading:
    """Everything the pane shows about one item (read from the store by the app)."""

    item: Item
    html: str = ""
    thread: tuple[Item, ...] = ()  # the statuses it replies to, oldest first
    parent_link: str | None = None  # the status it replies to, when not in the inbox
    story: Item | None = None  # the feed entry a status shares


def who_line(it: Item, labels: dict[str, str]) -> Text:
    a = it.author
    who = " · ".join(x for x in (a.name, a.handle) if x)
    t = Text(style="dim")
    if who:
        t.append(clean(who, oneline=True) + " · ")
    t.append(it.published.replace("T", " ").replace("Z", " UTC"))
    names = ", ".join(labels.get(s, s) for s in it.sources)
    if names:
        t.append(" · " + clean(names, oneline=True))
    return t


def render_reading(r: Reading, labels: dict[str, str], *, reveal_cw: bool) -> tuple[Text, list[str]]:
    """The pane's text and the web links it numbers (``[n]``), for opening and copying."""
    it = r.item
    lines: list[Text] = []
    title = it.title or it.author.name or it.author.handle or "(untitled)"
    lines.append(Text(clean(title, oneline=True), style="bold"))
    lines.append(who_line(it, labels))
    if it.url:
        lines.append(Text(clean(it.url, oneline=True), style="underline"))
    flags = []
    if it.starred:
        flags.append("★ starred")
    flags.append("read" if it.read else "unread")
    lines.append(Text(" · ".join(flags), style="dim italic"))
    if r.thread:
        lines.append(Text())
        lines.append(Text("Thread", style="bold"))
        for p in r.thread:
            who = clean(p.author.handle or p.author.name, oneline=True)
            first = clean((p.text or p.summary).strip().split("\n")[0], oneline=True)[:160]
            lines.append(Text("↳ ", style="magenta") + Text(who, style="bold")
                         + Text(f" ({p.id}): ") + Text(first, style="dim"))
    elif r.parent_link:
        lines.append(Text("↩ in reply to ", style="magenta")
                     + Text(clean(r.parent_link, oneline=True), style="underline"))
    elif it.reply_to:
        lines.append(Text("↩ a reply to a status that is not in the inbox", style="magenta"))
    lines.append(Text())
    links: list[str] = []
    if it.cw and not reveal_cw:
        cw = Text("CW: ", style="bold yellow") + Text(clean(it.cw), style="yellow")
        lines.append(cw)
        lines.append(Text("(the text is hidden: press w to show it)", style="dim italic"))
    else:
        if it.cw:
            lines.append(Text("CW: ", style="bold yellow") + Text(clean(it.cw), style="yellow"))
            lines.append(Text())
        if r.html:
            body, links = html_to_rich(r.html)
        else:
            body = plain_to_rich(it.text or it.summary)
        lines.append(body)
        for n, m in enumerate(it.media, 1):
            alt = clean(m.alt, oneline=True)
            lines.append(Text(f"[media {n}] ", style="dim")
                         + (Text(alt) if alt else Text("no description", style="dim italic")))
    if links:
        lines.append(Text())
        for n, href in enumerate(links, 1):
            lines.append(Text(f"[{n}] ", style="dim") + Text(href, style="underline"))
    extra: list[Text] = []
    if it.boosted_by:
        extra.append(Text("boosted by ", style="green")
                     + Text(clean(", ".join(it.boosted_by), oneline=True)))
    if it.shared_by:
        extra.append(Text(f"shared by {len(it.shared_by)}: ", style="cyan")
                     + Text(clean(", ".join(it.shared_by), oneline=True)))
    if r.story is not None:
        extra.append(Text("shares the story ", style="cyan") + Text(r.story.id, style="bold")
                     + Text(" " + clean(r.story.title, oneline=True) + " (t to open it)"))
    counts = it.counts_map
    if any(counts.values()):
        extra.append(Text(" · ".join(f"{v} {k}" for k, v in counts.items() if v), style="dim"))
    if it.tags:
        extra.append(Text(" ".join(f"#{clean(t, oneline=True)}" for t in it.tags), style="blue"))
    if extra:
        lines.append(Text())
        lines.extend(extra)
    return Text("\n").join(lines), links
