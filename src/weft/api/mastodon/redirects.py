"""Where OAuth sends a browser back: the redirect URIs an app registers, and the answers
written onto them.

Pure. A redirect URI is an absolute URI without a fragment: ``https://`` for web apps, a
custom scheme (``myapp://callback``) for phone apps, plain ``http://`` for apps on the
person's own machine, or ``urn:ietf:wg:oauth:2.0:oob`` ("out of band": show the code on
a page to copy). Schemes a browser would run rather than follow are refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from weft.errors import UsageError

__all__ = ["MAX_REDIRECT_URIS", "OOB", "InvalidRedirectUri", "check_redirect_uris", "form_action_source",
           "with_answer"]

OOB: Final = "urn:ietf:wg:oauth:2.0:oob"
MAX_REDIRECT_URIS: Final = 16
MAX_URI_CHARS: Final = 2000

_SCHEME: Final = re.compile(r"[a-z][a-z0-9+.-]*")
_HOST: Final = re.compile(r"[a-z0-9.-]+|[0-9a-f:.]+")  # a name or an IPv4 address, or IPv6 unbracketed
_REFUSED_SCHEMES: Final = frozenset({"javascript", "data", "vbscript", "file", "about", "blob", "filesystem"})


class InvalidRedirectUri(UsageError):
    """A redirect URI that is not absolute, has a fragment, or uses a refused scheme."""


def _check(uri: str) -> str:
    if len(uri) > MAX_URI_CHARS:
        raise InvalidRedirectUri(f"a redirect URI is longer than {MAX_URI_CHARS} characters")
    if uri == OOB:
        return uri
    if any(char.isspace() or ord(char) < 0x20 for char in uri):
        raise InvalidRedirectUri(f"the redirect URI {uri[:80]!r} contains spaces or control characters")
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if not _SCHEME.fullmatch(scheme):
        raise InvalidRedirectUri(f"the redirect URI {uri[:80]!r} is not absolute (it needs a scheme)")
    if scheme in _REFUSED_SCHEMES:
        raise InvalidRedirectUri(f"redirect URIs may not use the {scheme}: scheme")
    if parts.fragment or uri.endswith("#"):
        raise InvalidRedirectUri(f"the redirect URI {uri[:80]!r} has a fragment")
    if scheme in ("http", "https"):
        if not (parts.hostname and _HOST.fullmatch(parts.hostname)) or "@" in parts.netloc:
            raise InvalidRedirectUri(f"the redirect URI {uri[:80]!r} has no valid host")
        try:
            parts.port  # noqa: B018 - urlsplit checks the port only when asked for it
        except ValueError:
            raise InvalidRedirectUri(f"the redirect URI {uri[:80]!r} has an invalid port") from None
    return uri


def check_redirect_uris(uris: list[str]) -> list[str]:
    """The URIs an app registers, checked, each once, in order; at least one."""
    cleaned = [uri.strip() for uri in uris if uri.strip()]
    if not cleaned:
        raise InvalidRedirectUri("an app needs at least one redirect URI (or urn:ietf:wg:oauth:2.0:oob)")
    if len(cleaned) > MAX_REDIRECT_URIS:
        raise InvalidRedirectUri(f"an app may register at most {MAX_REDIRECT_URIS} redirect URIs")
    return list(dict.fromkeys(_check(uri) for uri in cleaned))


def with_answer(uri: str, answer: Mapping[str, str | None]) -> str:
    """``uri`` with the answer (``code`` and ``state``, or ``error``…) added to its query;
    what the URI's own query holds is kept, and values that are None are left out."""
    parts = urlsplit(uri)
    query = [*parse_qsl(parts.query, keep_blank_values=True),
             *((key, value) for key, value in answer.items() if value is not None)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def form_action_source(uri: str) -> str | None:
    """The CSP source that lets a form's answer redirect to ``uri``.

    Browsers hold a form's redirects to the page's ``form-action`` too, so the consent
    page must name where it sends the person: the origin of an http(s) URI, or the scheme
    alone of an app's own (``myapp:``). None for the out-of-band URI (no redirect).
    """
    if uri == OOB:
        return None
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return f"{scheme}:"
    host = parts.hostname or ""
    if ":" in host:  # CSP host sources cannot name IPv6 addresses: allow the scheme
        return f"{scheme}:"
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{scheme}://{host}{port}"
