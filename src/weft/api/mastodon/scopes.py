"""OAuth scopes as Mastodon defines them: parsing, and whether granted scopes cover a need.

Pure: strings in, answers out. The hierarchy is Mastodon's:

- ``read`` covers every ``read:*`` scope, ``write`` every ``write:*``, ``admin:read`` every
  ``admin:read:*`` and ``admin:write`` every ``admin:write:*``;
- ``follow`` (deprecated in Mastodon, still asked for by old apps) covers ``read:follows``,
  ``write:follows``, ``read:blocks``, ``write:blocks``, ``read:mutes`` and ``write:mutes``;
- ``push`` (Web Push subscriptions) and ``profile`` (only "who am I",
  ``verify_credentials``) stand alone.

An endpoint names the scopes any one of which lets a token in (``covers_any``), as
Mastodon's controllers do: ``verify_credentials`` takes ``profile``, ``read`` or
``read:accounts``.
"""

from __future__ import annotations

from typing import Final

from weft.errors import UsageError

__all__ = ["DEFAULT", "KNOWN", "InvalidScope", "check_within", "covers", "covers_any", "implied",
           "parse_scopes", "scope_text"]

DEFAULT: Final = "read"
"""What an app or an authorization request that names no scopes gets."""

_READ: Final = ("accounts", "blocks", "bookmarks", "favourites", "filters", "follows", "lists", "mutes",
                "notifications", "search", "statuses")
_WRITE: Final = ("accounts", "blocks", "bookmarks", "conversations", "favourites", "filters", "follows",
                 "lists", "media", "mutes", "notifications", "reports", "statuses")
_ADMIN: Final = ("accounts", "reports", "domain_allows", "domain_blocks", "ip_blocks", "email_domain_blocks",
                 "canonical_email_blocks")

FOLLOW_COVERS: Final = frozenset({"read:follows", "write:follows", "read:blocks", "write:blocks",
                                  "read:mutes", "write:mutes"})

KNOWN: Final = frozenset(
    {"read", "write", "follow", "push", "profile", "admin:read", "admin:write"}
    | {f"read:{name}" for name in _READ}
    | {f"write:{name}" for name in _WRITE}
    | {f"admin:read:{name}" for name in _ADMIN}
    | {f"admin:write:{name}" for name in _ADMIN})
"""Every scope a request may name."""

MAX_SCOPES_TEXT: Final = 2000


class InvalidScope(UsageError):
    """A scope that Mastodon does not define, or scopes an app may not ask for."""


def parse_scopes(text: str | None) -> tuple[str, ...]:
    """The scopes of a space-separated list (``+`` separates too, as in hand-written URLs),
    in the order given, each once; ``DEFAULT`` when there are none. InvalidScope names the
    first unknown one."""
    if text is not None and len(text) > MAX_SCOPES_TEXT:
        raise InvalidScope(f"the scopes are longer than {MAX_SCOPES_TEXT} characters")
    names = (text or "").replace("+", " ").split()
    for name in names:
        if name not in KNOWN:
            raise InvalidScope(f"unknown scope {name[:60]!r}")
    return tuple(dict.fromkeys(names)) or (DEFAULT,)


def scope_text(scopes: tuple[str, ...] | list[str]) -> str:
    """Scopes as OAuth writes them: separated by single spaces."""
    return " ".join(scopes)


def implied(scope: str) -> frozenset[str]:
    """The scopes that cover ``scope``: itself, its parent, and ``follow`` for the six it covers."""
    covering = {scope}
    parent, sep, _ = scope.rpartition(":")
    if sep and parent in KNOWN:
        covering.add(parent)
    if scope in FOLLOW_COVERS:
        covering.add("follow")
    return frozenset(covering)


def covers(granted: tuple[str, ...] | frozenset[str], scope: str) -> bool:
    """Whether ``granted`` allows ``scope``."""
    return not implied(scope).isdisjoint(granted)


def covers_any(granted: tuple[str, ...] | frozenset[str], needed: tuple[str, ...]) -> bool:
    """Whether ``granted`` allows at least one of ``needed``."""
    return any(covers(granted, scope) for scope in needed)


def check_within(requested: tuple[str, ...], allowed: tuple[str, ...]) -> None:
    """InvalidScope unless each requested scope is one the app registered (or a part of one)."""
    for scope in requested:
        if not covers(allowed, scope):
            raise InvalidScope(f"the scope {scope!r} is not among those the app registered "
                               f"({scope_text(allowed)})")
