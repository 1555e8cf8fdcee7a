"""One wording for network failures, whichever library met them (urllib3 for feeds,
requests under Mastodon.py): a dead host reads the same for a blog and for a Mastodon
server (issue 13)."""

from __future__ import annotations

_DNS = ("Failed to resolve", "Name or service not known", "nodename nor servname",
        "Temporary failure in name resolution", "No address associated with hostname")


def network_reason(e: BaseException) -> str:
    """A short reason for a socket/urllib3/requests exception (no stack of wrappers):
    ``host name not found (DNS)``, ``connection refused``, ``TLS certificate problem`` …"""
    text = str(e)
    if any(marker in text for marker in _DNS):
        return "host name not found (DNS)"
    if "Connection refused" in text or isinstance(e, ConnectionRefusedError):
        return "connection refused"
    if "CERTIFICATE_VERIFY_FAILED" in text or type(e).__name__ in ("SSLError", "SSLCertVerificationError"):
        return "TLS certificate problem"
    if "Network is unreachable" in text:
        return "network is unreachable"
    # urllib3 wraps socket/http.client errors: ProtocolError("Connection aborted.", inner).
    inner: BaseException = e
    while True:
        nested = [a for a in inner.args if isinstance(a, BaseException)]
        if not nested:
            break
        inner = nested[-1]
    msg = str(getattr(inner, "reason", None) or inner).splitlines()[0] if str(inner) else ""
    if ": " in msg and msg.startswith("<"):
        msg = msg.split(": ", 1)[1]
    return msg[:200] or type(inner).__name__
