"""What the hosted-account faces (the web app, the Mastodon client API) share: a ``Site``.

One per serving process: the node, its account service, where mail goes, where uploaded
media is kept, the rate limits, and the public URL people reach it at. The node assembly
(``weft serve``) makes it and hands it to the faces; they never build their own.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from weft.accounts import Accounts
from weft.errors import UsageError
from weft.mail import FileOutbox, MailSettings, Outbox, SmtpOutbox
from weft.media.blobs import BlobStore
from weft.node import Node
from weft.ratelimit import RateLimiter
from weft.vault import Vault

if TYPE_CHECKING:
    from weft.federation.service import Federation
    from weft.media.remote_cache import RemoteMediaCache
    from weft.social import Social
    from weft.social.remote import RemoteDirectory

__all__ = ["Limits", "Site"]


@dataclass
class Limits:
    """Per-key token buckets. Keys are client addresses (login, sign-up) or accounts (posting)."""

    login: RateLimiter
    sign_up: RateLimiter
    posting: RateLimiter
    reset: RateLimiter
    # Deliveries per sending host (by the signature's keyId): a big server's followers make
    # many; this stops a flood without refusing ordinary traffic.
    inbox: RateLimiter = field(default_factory=lambda: RateLimiter(3000, 300, time.monotonic))

    @classmethod
    def defaults(cls, environ: Mapping[str, str] = os.environ) -> Limits:
        # WEFT_RATE_LIMITS=off is for load benchmarks only; tests of the limits use their own.
        scale = 1_000_000 if environ.get("WEFT_RATE_LIMITS") == "off" else 1
        clock = time.monotonic
        return cls(login=RateLimiter(10 * scale, 300, clock), sign_up=RateLimiter(5 * scale, 1800, clock),
                   posting=RateLimiter(300 * scale, 3600, clock), reset=RateLimiter(5 * scale, 1800, clock),
                   inbox=RateLimiter(3000 * scale, 300, clock))


@dataclass
class Site:
    """A node serving hosted accounts."""

    node: Node
    accounts: Accounts
    base_url: str                     # e.g. https://social.example.org, no trailing slash
    outbox: Outbox
    blobs: BlobStore
    mail_from: str = "weft@localhost"
    limits: Limits = field(default_factory=Limits.defaults)
    title: str = "weft"
    # The largest archive a person arriving from another node may upload (WEFT_MAX_ARCHIVE_BYTES).
    max_archive_bytes: int = 1 << 30
    # Bearer token hash -> (the client API's grant, when read): see OAuthServer.grant.
    grants: dict[bytes, tuple[object, int]] = field(default_factory=dict)
    # ActivityPub (weft.federation.service), set by the node assembly (weft.cli.serve.site_routes):
    # the faces that do not federate reach it only through this field.
    federation: Federation | None = None
    # Finds Fediverse people on their servers (weft.social.remote), set with ``federation``.
    directory: RemoteDirectory | None = None
    # Fediverse images fetched and kept here (weft.media.remote_cache), set with ``federation``:
    # without it, pages link to them and nothing is fetched.
    remote_media: RemoteMediaCache | None = None

    @cached_property
    def social(self) -> Social:
        """What people do and see here (weft.social), shared by the Mastodon API and the web app."""
        from weft.social import Social  # the service is built on the Site: imported when first used

        return Social(self)

    @property
    def host(self) -> str:
        """The host (and port, if not the default) that handles are written with: alice@host."""
        return urlsplit(self.base_url).netloc

    @classmethod
    def for_node(cls, node: Node, base_url: str, *, environ: Mapping[str, str] = os.environ) -> Site:
        """The site of ``node``: mail through SMTP when WEFT_SMTP_HOST is set, else into
        ``DATA_DIR/mail`` as .eml files (so a newcomer without a mail server can still
        reset a password); media under ``DATA_DIR/media``."""
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(f"the public URL must be http(s)://host[:port], not {base_url!r}")
        vault = Vault.for_data_dir(node.config.data_dir, environ=environ)
        settings = MailSettings.from_env(environ)
        outbox: Outbox = SmtpOutbox(settings) if settings else FileOutbox(node.config.data_dir / "mail")
        mail_from = settings.sender if settings else f"weft@{parts.hostname}"
        return cls(node=node, accounts=Accounts(node, vault), base_url=base_url.rstrip("/"), outbox=outbox,
                   mail_from=mail_from, blobs=BlobStore(node.config.data_dir / "media"), limits=Limits.defaults(environ),
                   title=environ.get("WEFT_SITE_TITLE", "weft"),
                   max_archive_bytes=_byte_count(environ, "WEFT_MAX_ARCHIVE_BYTES", 1 << 30))


def _byte_count(environ: Mapping[str, str], name: str, default: int) -> int:
    text = environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) == 0:
        raise UsageError(f"{name}={text[:40]!r} is not a number of bytes")
    return int(text)
