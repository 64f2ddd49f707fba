"""Routes gathered by prefix (weft.api.routing) match every path as the plain list does."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from starlette.routing import BaseRoute, Match, Mount, Route

from weft.api.routing import RouteGroup, flattened, grouped


async def _nothing(request: object) -> None:
    return None


PATHS = ["/", "/api/health", "/api/v1/timelines/home", "/api/v1/timelines/tag/{tag}", "/api/v1/statuses/{id}",
         "/api/v1/statuses", "/api/v1/accounts/relationships", "/api/v1/accounts/{id}", "/api/{anything}",
         "/@{handle}", "/@{handle}/{status}", "/search", "/api/v1/", "/tags/{name}", "/api/v1/statuses/{id}/context"]


def _first_match(routes: list[BaseRoute], path: str) -> tuple[Match, BaseRoute | None]:
    scope = {"type": "http", "path": path, "method": "GET", "root_path": ""}
    for route in routes:
        match, child = route.matches(scope)
        if match == Match.FULL:
            return match, child.get("weft.route", route)
    return Match.NONE, None


@given(order=st.permutations(PATHS), path=st.sampled_from([
    "/", "/api/health", "/api/v1/timelines/home", "/api/v1/timelines/tag/x", "/api/v1/statuses/5",
    "/api/v1/statuses", "/api/v1/accounts/relationships", "/api/v1/accounts/7", "/api/whatever", "/@ann",
    "/@ann/5", "/search", "/api/v1/", "/tags/t", "/api/v1/statuses/5/context", "/static/x.css", "/nothing"]))
def test_grouped_routes_choose_the_route_the_list_would(order: list[str], path: str) -> None:
    routes: list[BaseRoute] = [Route(p, _nothing, name=str(i)) for i, p in enumerate(order)]
    routes.insert(3, Mount("/static", routes=[Route("/x.css", _nothing)]))
    gathered = grouped(routes)
    assert sorted(map(id, flattened(gathered))) == sorted(map(id, routes))
    plain_match, plain_route = _first_match(routes, path)
    group_match, group_route = _first_match(gathered, path)
    if isinstance(plain_route, Mount):
        assert group_route is plain_route
    else:
        assert (group_match, group_route) == (plain_match, plain_route)
    assert any(isinstance(route, RouteGroup) for route in gathered)
