"""The rules of URL canonicalization (README: "One story, many paths"), stated against an
independent reference: RFC 3986's normalization (§6.2.2: case, percent-encoding; §6.2.3:
scheme-based) written out here from the RFC with urllib.parse and the IDNA codec, plus pln's
own rules (no fragment, no credentials, no tracking parameters, no trailing slash)."""

from __future__ import annotations

import random
import string
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from companion.urls import canonical_url, is_web_link, link_key, redact, without_password

# ----- the reference ---------------------------------------------------------------------------

UNRESERVED = set(string.ascii_letters + string.digits + "-._~")  # RFC 3986 §2.3
PATH_CHARS = UNRESERVED | set("!$&'()*+,;=") | {":", "@", "/"}  # §3.3: pchar and "/"
HEX = set(string.hexdigits)
DEFAULT_PORT = {"http": 80, "https": 443}
# The tracking parameters README promises to drop ("utm_* and other tracking parameters").
TRACKING = ["utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "mtm_source",
            "pk_campaign", "hsa_acc", "_hsenc", "_hsmi", "vero_id", "oly_enc_id", "fbclid",
            "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
            "mc_cid", "mc_eid", "mkt_tok", "_ga", "_gl", "ref_src", "ref_url", "spm", "si",
            "cmpid", "sr_share", "share", "ncid", "ocid", "trk", "trkcampaign", "fb_action_ids",
            "fb_action_types", "fb_source", "action_object_map", "action_type_map", "ito",
            "wt_mc"]  # fmt: skip


def is_tracking(key: str) -> bool:
    k = key.lower()
    return k in TRACKING or k.startswith(("utm_", "mtm_", "pk_", "hsa_", "_hs", "vero_", "oly_"))


def rfc3986_path(path: str) -> str:
    """§2.1/§2.4/§6.2.2.1/§6.2.2.2 character by character: an escape of an unreserved
    character is that character, any other escape is kept with upper-case hex digits, a "%"
    that starts no escape is a percent sign, a path character stands as it is, and anything
    else is escaped as the hex of its UTF-8 bytes."""
    out = []
    i = 0
    while i < len(path):
        c, escape = path[i], path[i + 1:i + 3]
        if c == "%" and len(escape) == 2 and set(escape) <= HEX:
            decoded = chr(int(escape, 16))
            out.append(decoded if decoded in UNRESERVED else "%" + escape.upper())
            i += 3
            continue
        if c in PATH_CHARS:
            out.append(c)
        else:
            out.extend(f"%{b:02X}" for b in c.encode("utf-8", "surrogatepass"))
        i += 1
    return "".join(out)


def reference(url: str) -> str | None:
    """canonical_url as README and RFC 3986 describe it."""
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()  # §6.2.2.1: the scheme is case-insensitive
    host = (parts.hostname or "").lower().rstrip(".")  # §6.2.2.1: the host is case-insensitive
    if scheme not in DEFAULT_PORT or not host:
        return None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")  # RFC 3490: the host as DNS knows it
        except UnicodeError:
            pass
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORT[scheme]) else f"{host}:{port}"  # §6.2.3
    path = rfc3986_path(parts.path) or "/"  # §6.2.3: an empty path is "/"
    while len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not is_tracking(k)]
    query = urlencode(pairs, errors="surrogatepass")
    return urlunsplit((scheme, netloc, path, query, ""))


# ----- rules, one by one -----------------------------------------------------------------------


@pytest.mark.parametrize(("url", "canonical"), [
    # case: scheme and host are case-insensitive, the path is not
    ("HTTPS://Example.COM/Path/To", "https://example.com/Path/To"),
    ("hTTp://BLOG.example/A", "http://blog.example/A"),
    # default ports go, others stay
    ("https://example.com:443/x", "https://example.com/x"),
    ("http://example.com:80/x", "http://example.com/x"),
    ("https://example.com:80/x", "https://example.com:80/x"),
    ("http://example.com:443/x", "http://example.com:443/x"),
    ("https://example.com:8443/x/", "https://example.com:8443/x"),
    # the fragment and credentials go
    ("https://example.com/x#comments", "https://example.com/x"),
    ("https://ada:secret@example.com/x", "https://example.com/x"),
    # trailing slashes go, the root stays
    ("https://example.com", "https://example.com/"),
    ("https://example.com/", "https://example.com/"),
    ("https://example.com//", "https://example.com/"),
    ("https://example.com/a/b//", "https://example.com/a/b"),
    ("https://example.com/a/?id=1", "https://example.com/a?id=1"),
    ("https://example.com/TAX/", "https://example.com/TAX"),  # only slashes go
    ("https://example.com/TAX//?id=1", "https://example.com/TAX?id=1"),
    ("https://example.com/X./", "https://example.com/X."),
    # the host: a trailing dot goes, internationalized names in their IDNA form, IPv6 bracketed
    ("https://example.com./x", "https://example.com/x"),
    ("https://bücher.example/", "https://xn--bcher-kva.example/"),
    ("https://BÜCHER.example/", "https://xn--bcher-kva.example/"),
    ("https://[::1]:8080/x", "https://[::1]:8080/x"),
    ("https://[2001:DB8::1]/x", "https://[2001:db8::1]/x"),
    ("https://192.0.2.1/x/", "https://192.0.2.1/x"),
    # percent-encoding (RFC 3986 §6.2.2.2): unreserved decoded, the rest in upper case
    ("https://example.com/%7euser/%41b", "https://example.com/~user/Ab"),
    ("https://example.com/a%2fb", "https://example.com/a%2Fb"),  # an escaped slash is no slash
    ("https://example.com/a%2Fb/", "https://example.com/a%2Fb"),
    ("https://example.com/100%25", "https://example.com/100%25"),  # an escaped percent sign
    ("https://example.com/100%", "https://example.com/100%25"),  # a bare one
    ("https://example.com/%zz", "https://example.com/%25zz"),
    ("https://example.com/caf%c3%a9", "https://example.com/caf%C3%A9"),
    ("https://example.com/café", "https://example.com/caf%C3%A9"),  # an IRI's path as UTF-8
    ("https://example.com/a b", "https://example.com/a%20b"),
    ("https://example.com/x{y}|z", "https://example.com/x%7By%7D%7Cz"),
    ("https://example.com/@user/1;p=1,(x)*", "https://example.com/@user/1;p=1,(x)*"),
    # whitespace around the URL is not part of it
    ("  https://example.com/x\n", "https://example.com/x"),
])  # fmt: skip
def test_canonical_form(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical
    assert reference(url) == canonical  # the reference says the same
    assert canonical_url(canonical) == canonical  # a canonical URL is its own canonical form


@pytest.mark.parametrize("key", TRACKING)
def test_every_tracking_parameter_is_dropped_in_any_case(key: str) -> None:
    for k in (key, key.upper(), key.capitalize()):
        assert canonical_url(f"https://example.com/p?id=7&{k}=x&page=2") == \
            "https://example.com/p?id=7&page=2"
        assert canonical_url(f"https://example.com/p?{k}=x") == "https://example.com/p"


@pytest.mark.parametrize("key", ["utm", "id", "page", "ref", "s", "q", "shared", "trkx", "_g",
                                 "mc_id", "source", "fb", "p", "pk", "sid", "x_utm_source"])
def test_other_parameters_are_kept_in_order(key: str) -> None:
    for query in (f"{key}=1&a=2", f"a=2&{key}=1"):
        assert canonical_url(f"https://example.com/p?{query}") == f"https://example.com/p?{query}"


def test_query_values_are_form_encoded_and_blank_values_kept() -> None:
    assert canonical_url("https://example.com/s?q=a+b&x=&utm_source=m") == \
        "https://example.com/s?q=a+b&x="
    assert canonical_url("https://example.com/s?q=a%20b") == "https://example.com/s?q=a+b"
    assert canonical_url("https://example.com/s?q=%2f") == "https://example.com/s?q=%2F"


@pytest.mark.parametrize("url", [
    None, "", "ftp://example.com/x", "mailto:ada@example.com", "javascript:alert(1)",
    "file:///etc/passwd", "data:text/html,x", "example.com/x", "//example.com/x", "https://",
    "https:///x", "https://./x", "https://example.com:99999/x", "https://example.com:port/x",
])  # fmt: skip
def test_only_http_urls_with_a_host_have_a_canonical_form(url: str | None) -> None:
    assert canonical_url(url) is None
    assert link_key(url) is None


def test_broken_text_in_a_link_never_raises() -> None:
    # a lone surrogate reaches us from a broken feed or a JSON escape
    assert canonical_url("https://example.com/a\ud800b") == "https://example.com/a%ED%A0%80b"
    assert canonical_url("https://example.com/x?q=\ud800") == "https://example.com/x?q=%ED%A0%80"


def test_link_key_joins_scheme_and_www_variants_and_nothing_else() -> None:
    same = ["https://www.blog.example/posts/1/", "http://blog.example/posts/1?utm_source=x",
            "HTTPS://BLOG.example:443/posts/1#c", "https://www.blog.example./posts/1"]
    assert {link_key(u) for u in same} == {"blog.example/posts/1"}
    assert link_key("https://blog.example/") == "blog.example/"
    assert link_key("https://www2.blog.example/posts/1") == "www2.blog.example/posts/1"
    assert link_key("https://blog.example/www.posts/1") == "blog.example/www.posts/1"
    assert link_key("https://wwwblog.example/p") == "wwwblog.example/p"
    assert link_key("https://blog.example:8443/posts/1") == "blog.example:8443/posts/1"
    # an archived copy names the page it archives in its path: it is the archive's page
    archived = "https://web.archive.org/web/2020/https://blog.example/posts/1"
    assert link_key(archived) == "web.archive.org/web/2020/https://blog.example/posts/1"
    assert link_key(archived + "?x=1") == \
        "web.archive.org/web/2020/https://blog.example/posts/1?x=1"
    # given a canonical URL, it is not canonicalized again (and must already be one)
    assert link_key("https://www.blog.example/posts/1", canonical=True) == "blog.example/posts/1"
    assert link_key("HTTPS://Blog.example/x/", canonical=True) == "Blog.example/x/"
    assert link_key("not a url", canonical=True) is None
    assert link_key(None, canonical=True) is None


# ----- the reference over many URLs ----------------------------------------------------------

_SCHEMES = ["http://", "https://", "HTTPS://", "Http://", "ftp://"]
_USERINFO = ["", "", "", "ada@", "ada:pw@"]
_HOSTS = ["example.com", "Example.COM", "blog.example.", "www.blog.example", "bücher.example",
          "xn--bcher-kva.example", "192.0.2.1", "[::1]", "[2001:DB8::1]", "a-b.c-d.example",
          "exa_mple.com", "localhost", "日本.example"]
_PORTS = ["", "", "", ":80", ":443", ":8080", ":0"]
_SEGMENTS = ["a", "B", "posts", "1", "", ".", "..", "%41", "%7e", "%7E", "%2f", "%2F", "%25",
             "%", "%zz", "%c3%a9", "é", "日本", " ", "a b", "@user", "x;p=1", "(x)", "*", "!",
             "$", "&", "'", "+", ",", "=", ":", "{", "}", "|", "^", "`", '"', "<", ">", "[",
             "]", "\\", "~", "_", "-"]  # fmt: skip
_PARAMS = ["id=1", "utm_source=x", "UTM_Medium=y", "fbclid=z", "FBCLID=z", "page=2", "q=a+b",
           "q=a%20b", "x=", "x", "ref=home", "si=abc", "share=1", "shared=1", "a=%2F", "é=è"]
_FRAGMENTS = ["", "", "#top", "#", "#a/b?c"]


def random_url(rnd: random.Random) -> str:
    path = "".join("/" + "".join(rnd.choice(_SEGMENTS) for _ in range(rnd.randint(0, 3)))
                   for _ in range(rnd.randint(0, 4)))
    if rnd.random() < 0.2:
        path += "/" * rnd.randint(1, 2)
    query = ""
    if rnd.random() < 0.5:
        query = "?" + "&".join(rnd.choice(_PARAMS) for _ in range(rnd.randint(0, 4)))
    return (rnd.choice(_SCHEMES) + rnd.choice(_USERINFO) + rnd.choice(_HOSTS) + rnd.choice(_PORTS)
            + path + query + rnd.choice(_FRAGMENTS))


def test_canonical_url_agrees_with_the_rfc_3986_reference_on_random_urls() -> None:
    rnd = random.Random(19)
    for _ in range(20_000):
        url = random_url(rnd)
        assert canonical_url(url) == reference(url), url


@pytest.mark.parametrize("url", ["https://a.example/p?q=1#f", "http://a.example", "HTTPS://A.example/",
                                 "https://a.example/caf\u00e9", "https://a.example/\u00a0",
                                 "https://a.example/wow!", "https://a.example/~ada"])
def test_web_links_are_http_urls_with_a_host(url: str) -> None:
    assert is_web_link(url)


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "file:///etc/passwd", "data:text/html,x", "ftp://a.example/",
    "https://", "https:///path", "http://[::1", "",
    "https://a.example/a b",  # a space: a shell would split it
    *(f"https://a.example/{chr(c)}" for c in (0x00, 0x09, 0x0A, 0x1B, 0x1F, 0x7F)),  # C0, DEL
    *(f"https://a.example/{chr(c)}" for c in (0x80, 0x9B, 0x9F)),  # C1: 0x9B is a terminal's CSI
])
def test_anything_else_is_not_a_web_link(url: str) -> None:
    """What pln never hands to a browser (issue 12): other schemes, no host, and any
    character a shell or a terminal acts on."""
    assert not is_web_link(url)


# ----- credentials in URLs (issue 12): shown redacted, exported without the password --------

@pytest.mark.parametrize(("text", "shown"), [
    ("https://ada:s3cret@blog.example/feed", "https://ada:***@blog.example/feed"),
    ("https://TOKEN123@blog.example/feed", "https://***@blog.example/feed"),  # a lone part
    ("https://ada:pa:ss@blog.example/", "https://ada:***@blog.example/"),  # the first ':' splits
    ("https://ada:@blog.example/", "https://ada:***@blog.example/"),
    ("HTTPS://ada:x@blog.example", "HTTPS://ada:***@blog.example"),
    ("imaps://ada:x@mail.example/INBOX", "imaps://ada:***@mail.example/INBOX"),
    ("cannot reach https://a:b@x.example/f (reset); see http://tok@y.example/?q=1 too",
     "cannot reach https://a:***@x.example/f (reset); see http://***@y.example/?q=1 too"),
    ("https://ada:x@blog.example:8443/feed", "https://ada:***@blog.example:8443/feed"),
])
def test_credentials_in_urls_are_shown_as_stars(text: str, shown: str) -> None:
    assert redact(text) == shown


@pytest.mark.parametrize("text", [
    "https://mastodon.example/@ada",  # an @ in the path is no credential
    "https://blog.example/feed?by=ada@example.org",
    "@ada@mastodon.example", "write to ada@example.org", "#edtech@m.example",
    "https://blog.example/feed", "no url here", "",
])
def test_text_without_credentials_is_left_as_it_is(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(("url", "exported"), [
    ("https://ada:s3cret@blog.example/feed?x=1#f", "https://ada@blog.example/feed?x=1#f"),
    ("https://ada:@blog.example/feed", "https://ada@blog.example/feed"),  # an empty password
    ("https://:s3cret@blog.example/", "https://blog.example/"),  # a password, no user
    ("https://ada:p@ss@blog.example/", "https://ada@blog.example/"),  # '@' in the password
    ("https://ada:x@blog.example:8443/f", "https://ada@blog.example:8443/f"),
    ("https://ada:pa:ss@blog.example/", "https://ada@blog.example/"),  # the first ':' splits
])
def test_an_export_keeps_the_user_and_drops_the_password(url: str, exported: str) -> None:
    assert without_password(url) == exported
    # the reference: urllib reads the same URL back, less the password
    a, b = urlsplit(url), urlsplit(exported)
    assert b.password is None and (b.username or "") == (a.username or "")
    assert (b.hostname, b.port, b.path, b.query, b.fragment) == (
        a.hostname, a.port, a.path, a.query, a.fragment)


@pytest.mark.parametrize("url", ["https://ada@blog.example/feed", "https://blog.example/feed",
                                 "https://blog.example:8443/@ada:x", "http://127.0.0.1:9/f",
                                 # (byte for byte: urlunsplit would drop an empty ? or #)
                                 "https://blog.example/feed?", "https://ada@blog.example/f#"])
def test_a_url_without_a_password_is_exported_as_it_is(url: str) -> None:
    assert without_password(url) == url
