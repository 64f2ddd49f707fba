"""Route matching by path prefix: Starlette tries routes one by one, and with the web app,
the native API and the client API together a request would otherwise test a hundred
regular expressions before its own.

``grouped(routes)`` keeps the order of matching: routes whose first segments (up to
three) are all literal are gathered by those segments, which no path can share with a
route of another prefix; a route with a parameter among its first segments (``/@{handle}``)
or a mount is a barrier that nothing is moved across.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Match, Mount, NoMatchFound
from starlette.types import Receive, Scope, Send

__all__ = ["RouteGroup", "flattened", "grouped"]

_SEGMENTS = 3
_CHOSEN = "weft.route"


def _prefix(route: BaseRoute) -> str | None:
    """The literal first segments of a route's path; None for a barrier."""
    path = getattr(route, "path", None)
    if isinstance(route, Mount) or not isinstance(path, str) or not path.startswith("/"):
        return None
    segments = path.split("/")[1:_SEGMENTS + 1]
    if any("{" in segment for segment in segments):
        return None
    return "/" + "/".join(segments)


class RouteGroup(BaseRoute):
    """Routes that share a literal prefix, tested only for paths under it."""

    def __init__(self, prefix: str, routes: list[BaseRoute]) -> None:
        self.prefix = prefix
        self.routes = routes

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path: str = scope.get("path", "")
        if not (path == self.prefix or path.startswith(self.prefix + "/")):
            return Match.NONE, {}
        partial: tuple[BaseRoute, Scope] | None = None
        for route in self.routes:
            match, child = route.matches(scope)
            if match == Match.FULL:
                return Match.FULL, {**child, _CHOSEN: route}
            if match == Match.PARTIAL and partial is None:
                partial = (route, child)
        if partial is not None:
            return Match.PARTIAL, {**partial[1], _CHOSEN: partial[0]}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route: BaseRoute = scope[_CHOSEN]
        await route.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                continue
        raise NoMatchFound(name, path_params)


def grouped(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """``routes`` gathered into RouteGroups, matching exactly as the list would."""
    result: list[BaseRoute] = []
    groups: dict[str, list[BaseRoute]] = {}
    for route in routes:
        prefix = _prefix(route)
        if prefix is None:
            groups = {}
            result.append(route)
            continue
        if prefix not in groups:
            groups[prefix] = []
            result.append(RouteGroup(prefix, groups[prefix]))
        groups[prefix].append(route)
    return result


def flattened(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """Every route inside the groups (for listing what an app serves)."""
    found: list[BaseRoute] = []
    for route in routes:
        found.extend(flattened(route.routes) if isinstance(route, RouteGroup) else [route])
    return found
