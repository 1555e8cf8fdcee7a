"""Real-world-shaped newsletter messages, encoded the way the mail services send them, and
helpers that lay them out as a real Maildir and mbox on disk.

The shapes follow what Substack, Mailchimp, Buttondown and a French-language academic list
send: multipart/alternative with a quoted-printable HTML part, multipart/related with an
inline (cid:) image, base64 bodies, ISO-8859-1 and Windows-1252 text, RFC 2047 headers,
List-Id / List-Unsubscribe, an open-tracking pixel, hidden preheader text and click-tracking
redirects (recoverable: Substack's base64 JWT, Outlook safelinks, Google ``url?q=``;
unrecoverable: Mailchimp's ``track/click``).
"""

from __future__ import annotations

import base64
import json
import mailbox
import quopri
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

ARTICLE = "https://www.edutopia.org/article/exit-tickets-that-work/"
PAPER = "https://journals.example.edu/papers/retrieval-practice-2026"


def qp(text: str, charset: str = "utf-8") -> str:
    return quopri.encodestring(text.encode(charset)).decode("ascii")


def b64(text: str, charset: str = "utf-8") -> str:
    return base64.encodebytes(text.encode(charset)).decode("ascii")


def substack_redirect(url: str) -> str:
    """Substack's click-tracking link: a JWT whose payload's ``e`` is the destination."""
    def part(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")

    payload = {"e": url, "p": 151234567, "s": 1029384, "f": True, "u": 98765432,
               "iat": 1764500000, "exp": 1767092000, "iss": "pub-1029384", "sub": "link-redirect"}
    return ("https://substack.com/redirect/2/" + part(payload) + "."
            + "Xq3f9c0ZJ2s_4c1kq8o3W0pQd5Yc9r7ZtP2sXb1VgAa")


def date(when: datetime) -> str:
    return format_datetime(when)


def substack(when: datetime, *, n: int = 1) -> bytes:
    """A Substack post by email: multipart/alternative, QP, pixel, JWT redirects."""
    link = substack_redirect(ARTICLE + "?utm_source=substack&utm_medium=email")
    web = "https://teachinglab.substack.com/p/exit-tickets-week-" + str(n)
    html = f"""<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<style>.preview {{ display:none }} body {{ font-family: Georgia }}</style></head>
<body><div class="preview" style="display:none;max-height:0;overflow:hidden">Three exit tickets I keep coming back to &#847; &zwnj; &#847; &zwnj;</div>
<table role="presentation" width="100%"><tr><td>
<a href="{substack_redirect(web + '?utm_source=substack&utm_medium=email')}">View in browser</a>
<h1><a href="{substack_redirect(web)}">Exit tickets, week {n}</a></h1>
<p>This week’s favourite read: <a href="{link}">Exit tickets that work</a> — short, honest, and
the example on page two is worth stealing. Café talk at its best.</p>
<p>Also: <a href="{substack_redirect(PAPER)}">a new paper on retrieval practice</a>.</p>
<p><a href="https://teachinglab.substack.com/">Teaching Lab</a> ·
<a href="https://substack.com/redirect/2/notbase64">Like</a></p>
<p><a href="https://teachinglab.substack.com/action/disable_email?token=abc">Unsubscribe</a></p>
<img src="https://eotrx.substackcdn.com/open?token=eyJtIjoiMTIzIn0&amp;s=1" width="1" height="1" alt="" border="0">
</td></tr></table></body></html>"""
    text = f"""View this post on the web at {web}

This week’s favourite read: Exit tickets that work [{link}] — short, honest.

Unsubscribe https://teachinglab.substack.com/action/disable_email?token=abc
"""
    return f"""Return-Path: <bounce-mc.teachinglab@substack.com>
Delivered-To: teacher@example.org
Received: from mail-pj1-f97.substack.com (mail-pj1-f97.substack.com [209.85.216.97])
\tby mx.example.org with ESMTPS id 4Zq2k81v3Kz9rxL; {date(when)}
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=substack.com; s=s1; h=From:Subject;
 bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AbCdEf
From: =?utf-8?q?Teaching_Lab_=E2=80=94_Ana_Ruiz?= <teachinglab@substack.com>
To: teacher@example.org
Subject: =?utf-8?q?Exit_tickets=2C_week_{n}_=E2=9C=8F=EF=B8=8F?=
Date: {date(when)}
Message-ID: <20261130.{n}.teachinglab@substack.com>
List-Id: <teachinglab.substack.com>
List-Unsubscribe: <https://teachinglab.substack.com/action/disable_email?token=abc>,
 <mailto:unsubscribe+abc@substack.com>
List-Unsubscribe-Post: List-Unsubscribe=One-Click
List-URL: <https://teachinglab.substack.com/>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="--==_mimepart_6749a1"

----==_mimepart_6749a1
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

{qp(text)}
----==_mimepart_6749a1
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

{qp(html)}
----==_mimepart_6749a1--
""".replace("\n", "\r\n").encode("ascii")


def mailchimp_latin1(when: datetime) -> bytes:
    """A French list sent through Mailchimp: ISO-8859-1 HTML in base64 inside
    multipart/related with an inline logo, safelinks and google redirects, a pixel."""
    safelink = ("https://eur03.safelinks.protection.outlook.com/?url="
                "https%3A%2F%2Fwww.cafepedagogique.net%2F2026%2F11%2F30%2Fevaluer-autrement%2F"
                "&data=05%7C02%7C%7Cabc%7C0&sdata=xyz&reserved=0")
    google = "https://www.google.com/url?q=" + PAPER + "&sa=D&source=editors&ust=1764500000"
    html = f"""<html><head><meta charset="iso-8859-1"></head><body>
<img src="cid:logo@cafepedagogique" alt="Le Café pédagogique" width="200">
<p>Évaluer autrement : <a href="{safelink}">lire l'article</a>.</p>
<p>Recherche : <a href="{google}">la pratique de récupération</a>.</p>
<p><a href="https://cafepedagogique.us1.list-manage.com/track/click?u=1a2b3c&id=4d5e6f&e=7a8b9c">Notre sondage</a></p>
<p><a href="https://cafepedagogique.us1.list-manage.com/unsubscribe?u=1a2b3c&id=4d5e6f">Se désabonner</a></p>
<img src="https://cafepedagogique.us1.list-manage.com/track/open.php?u=1a2b3c&id=4d5e6f&e=7a8b9c" height="1" width="1" alt="">
</body></html>"""
    logo = base64.encodebytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64).decode("ascii")
    return f"""From: =?iso-8859-1?q?Le_Caf=E9_p=E9dagogique?= <lettre@cafepedagogique.net>
To: teacher@example.org
Subject: =?iso-8859-1?q?=C9valuer_autrement_=96_la_lettre_du_30_novembre?=
Date: {date(when)}
Message-ID: <c8f2a1b7e9.20261130@mail.cafepedagogique.net>
List-Id: Le Cafe pedagogique <lettre.cafepedagogique.net>
List-Unsubscribe: <https://cafepedagogique.us1.list-manage.com/unsubscribe?u=1a2b3c&id=4d5e6f>
X-Mailer: MailChimp Mailer - **CID4d5e6f**
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="_----------=_MCPart_1337"

--_----------=_MCPart_1337
Content-Type: text/plain; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable

{qp("Évaluer autrement : https://www.cafepedagogique.net/2026/11/30/evaluer-autrement/", "iso-8859-1")}
--_----------=_MCPart_1337
Content-Type: multipart/related; boundary="_----------=_MCPart_1338"

--_----------=_MCPart_1338
Content-Type: text/html; charset="iso-8859-1"
Content-Transfer-Encoding: base64

{b64(html, "iso-8859-1")}
--_----------=_MCPart_1338
Content-Type: image/png; name="logo.png"
Content-Transfer-Encoding: base64
Content-ID: <logo@cafepedagogique>
Content-Disposition: inline; filename="logo.png"

{logo}
--_----------=_MCPart_1338--

--_----------=_MCPart_1337--
""".replace("\n", "\r\n").encode("ascii")


def buttondown_cp1252(when: datetime) -> bytes:
    """A plain-text-only newsletter (Buttondown's text mode) in Windows-1252, base64."""
    text = ("Hi all \u2014 this week\u2019s \u201cone thing\u201d:\n\n"
            f"{ARTICLE}?utm_campaign=weekly\n\nSee you next week,\nSam\n\n"
            "Unsubscribe: https://buttondown.com/unsubscribe/3f2a\n")
    return f"""From: "Sam's Science Notes" <sam@buttondown.email>
To: teacher@example.org
Subject: One thing for Monday
Date: {date(when)}
Message-ID: <0f3c9a10-1b2c-4d5e-8f90-a1b2c3d4e5f6@buttondown.email>
List-Id: <sams-science-notes.buttondown.email>
List-Unsubscribe: <https://buttondown.com/unsubscribe/3f2a>
MIME-Version: 1.0
Content-Type: text/plain; charset="windows-1252"
Content-Transfer-Encoding: base64

{b64(text, "cp1252")}""".replace("\n", "\r\n").encode("ascii")


def personal(when: datetime) -> bytes:
    """Not a newsletter: mail from a colleague (filtered out by --from / List-Id)."""
    return f"""From: Dana <dana@school.example>
To: teacher@example.org
Subject: Lunch duty swap?
Date: {date(when)}
Message-ID: <CAF=x1@mail.school.example>
Content-Type: text/plain; charset=utf-8

Can you take Thursday?
""".replace("\n", "\r\n").encode("ascii")


def no_message_id(when: datetime) -> bytes:
    return f"""From: News Bot <bot@news.example>
Subject: Untracked digest
Date: {date(when)}
Content-Type: text/html; charset=utf-8

<p>Read <a href="https://news.example/stories/42">story 42</a>.</p>
""".replace("\n", "\r\n").encode("ascii")


def week(now: datetime) -> list[bytes]:
    """A week of mail: three newsletters and a personal message, oldest first."""
    return [
        substack(now - timedelta(days=3), n=1),
        mailchimp_latin1(now - timedelta(days=2)),
        personal(now - timedelta(days=2, hours=1)),
        buttondown_cp1252(now - timedelta(days=1)),
    ]


def make_maildir(path: Path, messages: list[bytes], *, seen: int = 0) -> mailbox.Maildir:
    """A real Maildir (tmp/ new/ cur/) holding ``messages``; the first ``seen`` in cur/."""
    md = mailbox.Maildir(str(path), create=True)
    for n, raw in enumerate(messages):
        msg = mailbox.MaildirMessage(raw)
        if n < seen:
            msg.set_subdir("cur")
            msg.add_flag("S")
        md.add(msg)
    return md


def make_mbox(path: Path, messages: list[bytes]) -> None:
    """A real mbox file (``From `` lines, ``>From`` quoting) holding ``messages``."""
    box = mailbox.mbox(str(path), create=True)
    box.lock()
    try:
        for raw in messages:
            box.add(mailbox.mboxMessage(raw))
        box.flush()
    finally:
        box.unlock()
        box.close()
