"""How other servers find this one and its people: WebFinger (RFC 7033), host-meta
(RFC 6415) and NodeInfo 2.0/2.1.

WebFinger answers ``acct:user@host`` and the actor's own URL for hosted accounts, as
Mastodon does, and names the actor document (``self``, application/activity+json) and
the profile page. Only this site's host is answered: a handle is a claim about a host,
and ours covers our host alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from weft.store import accounts as account_store
from weft.store.node_stats import usage

if TYPE_CHECKING:   # a face is handed its Site by the node assembly; importing it would pull in the others
    from weft.site import Site

__all__ = ["actor_url", "routes"]

AS2: Final = "application/activity+json"
JRD: Final = "application/jrd+json"
NODEINFO_SCHEMA: Final = "http://nodeinfo.diaspora.software/ns/schema/{}"
VERSION: Final = "0.1.0"


def actor_url(site: Site, username: str) -> str:
    return f"{site.base_url}/users/{username}"


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _username_of(site: Site, resource: str) -> str | None:
    """The local username ``resource`` names (acct:user@host, or an actor or profile URL), else None."""
    if resource.startswith("acct:"):
        user, _, host = unquote(resource[5:]).lstrip("@").rpartition("@")
        return user if user and host.lower() == site.host.lower() else None
    parts = urlsplit(resource)
    if f"{parts.scheme}://{parts.netloc}".lower() != site.base_url.lower():
        return None
    path = parts.path.rstrip("/")
    for prefix in ("/users/", "/@"):
        if path.startswith(prefix) and "/" not in path[len(prefix):]:
            return path[len(prefix):] or None
    return None


async def webfinger(request: Request) -> Response:
    site: Site = request.app.state.site
    resource = request.query_params.get("resource", "").strip()
    if not resource:
        return _error(400, "the resource parameter is required (acct:user@host or an actor URL)")
    username = _username_of(site, resource)
    async with site.node.db.read() as conn:
        account = await account_store.account_by(conn, username=username) if username else None
    if account is None or account.state != "active":
        return _error(404, f"no account here for {resource[:200]!r}")
    actor = actor_url(site, account.username)
    profile = f"{site.base_url}/@{account.username}"
    return JSONResponse({
        "subject": f"acct:{account.username}@{site.host}",
        "aliases": [actor, profile],
        "links": [
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": profile},
            {"rel": "self", "type": AS2, "href": actor},
        ],
    }, media_type=JRD, headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "max-age=300"})


async def host_meta(request: Request) -> Response:
    site: Site = request.app.state.site
    template = f"{site.base_url}/.well-known/webfinger?resource={{uri}}"
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
            f'  <Link rel="lrdd" template="{_xml_attribute(template)}"/>\n'
            '</XRD>\n')
    return Response(body, media_type="application/xrd+xml")


def _xml_attribute(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


async def nodeinfo_links(request: Request) -> Response:
    site: Site = request.app.state.site
    return JSONResponse({"links": [{"rel": NODEINFO_SCHEMA.format(version), "href": f"{site.base_url}/nodeinfo/{version}"}
                                   for version in ("2.0", "2.1")]})


async def nodeinfo(request: Request) -> Response:
    site: Site = request.app.state.site
    version = request.path_params["version"]
    if version not in ("2.0", "2.1"):
        return _error(404, f"NodeInfo {version[:20]!r} is not served; 2.0 and 2.1 are")
    async with site.node.db.read() as conn:
        counts = await usage(conn, site.node.clock())
    software: dict[str, Any] = {"name": "weft", "version": VERSION}
    if version == "2.1":
        software["repository"] = "https://github.com/weft-social/weft"
    document = {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": ["atom1.0", "rss2.0"]},
        "openRegistrations": await site.accounts.registration_mode() == "open",
        "usage": {"users": {"total": counts.users, "activeMonth": counts.active_month,
                            "activeHalfyear": counts.active_halfyear},
                  "localPosts": counts.local_posts},
        "metadata": {"nodeName": site.title},
    }
    profile = NODEINFO_SCHEMA.format(version) + "#"
    return JSONResponse(document, media_type=f'application/json; profile="{profile}"')


def routes(site: Site) -> list[BaseRoute]:
    """The discovery routes; ``site`` is read from ``app.state.site`` at request time."""
    del site  # the same routes serve whichever site the app holds
    return [
        Route("/.well-known/webfinger", webfinger, methods=["GET"]),
        Route("/.well-known/host-meta", host_meta, methods=["GET"]),
        Route("/.well-known/nodeinfo", nodeinfo_links, methods=["GET"]),
        Route("/nodeinfo/{version}", nodeinfo, methods=["GET"]),
    ]
