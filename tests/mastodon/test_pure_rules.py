"""The pure parts of the client API: scopes, pagination links, Rails-style parameters and
redirect URIs."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from weft.api.mastodon.pagination import link_header, page_links
from weft.api.mastodon.params import MAX_PARAMS, Params, ParamsError, nest
from weft.api.mastodon.redirects import (
    OOB,
    InvalidRedirectUri,
    check_redirect_uris,
    form_action_source,
    with_answer,
)
from weft.api.mastodon.scopes import (
    KNOWN,
    InvalidScope,
    check_within,
    covers,
    covers_any,
    parse_scopes,
)

# -- scopes ----------------------------------------------------------------------------------


def test_broad_scopes_cover_their_parts() -> None:
    assert covers(("read",), "read:statuses") and covers(("write",), "write:media")
    assert covers(("admin:read",), "admin:read:accounts") and not covers(("read",), "admin:read:accounts")
    assert not covers(("read",), "write:statuses") and not covers(("read:statuses",), "read")
    assert not covers(("read",), "profile") and not covers(("read",), "push")


def test_follow_covers_follows_blocks_and_mutes_only() -> None:
    assert {s for s in KNOWN if covers(("follow",), s)} == {
        "follow", "read:follows", "write:follows", "read:blocks", "write:blocks", "read:mutes", "write:mutes"}


@given(st.sampled_from(sorted(s for s in KNOWN if ":" in s and s not in ("admin:read", "admin:write"))))
def test_every_granular_scope_is_covered_by_its_group(scope: str) -> None:
    group = scope.rsplit(":", 1)[0]
    assert covers((group,), scope) and covers_any(("push", group), ("nope", scope))


def test_parsing_scopes() -> None:
    assert parse_scopes(None) == ("read",) and parse_scopes("  ") == ("read",)
    assert parse_scopes("read write read") == ("read", "write")
    assert parse_scopes("read+write:statuses") == ("read", "write:statuses")
    with pytest.raises(InvalidScope, match="unknown scope 'everything'"):
        parse_scopes("read everything")
    check_within(("read:statuses", "write:follows"), ("read", "follow"))
    with pytest.raises(InvalidScope):
        check_within(("write",), ("read", "write:statuses"))


@given(st.lists(st.sampled_from(sorted(KNOWN)), min_size=1))
def test_scopes_parse_back_from_their_text(scopes: list[str]) -> None:
    assert parse_scopes(" ".join(scopes)) == tuple(dict.fromkeys(scopes))


# -- pagination ------------------------------------------------------------------------------


def test_links_point_older_and_newer_and_keep_other_parameters() -> None:
    url = "https://social.example/api/v1/timelines/home?limit=20&max_id=99&only_media=true"
    header = link_header(url, ["90", "80", "70"])
    assert header == ('<https://social.example/api/v1/timelines/home?limit=20&only_media=true&max_id=70>; '
                      'rel="next", <https://social.example/api/v1/timelines/home?limit=20&only_media=true'
                      '&min_id=90>; rel="prev"')
    assert link_header(url, []) is None
    assert page_links(url, max_id=None, min_id=None) is None
    older_only = page_links(url, max_id="5", min_id=None)
    assert older_only is not None and older_only.endswith('max_id=5>; rel="next"')


@given(st.dictionaries(st.sampled_from(["limit", "max_id", "since_id", "min_id", "q", "local"]),
                       st.text(min_size=0, max_size=8), max_size=6),
       st.lists(st.text(alphabet="0123456789", min_size=1, max_size=5), min_size=1, max_size=5))
def test_links_carry_one_cursor_and_every_other_parameter(params: dict[str, str], ids: list[str]) -> None:
    url = "http://h/api?" + urlencode(params)
    header = link_header(url, ids)
    assert header is not None
    for part, cursor, value in zip(header.split(", "), ("max_id", "min_id"), (ids[-1], ids[0]), strict=True):
        query = parse_qs(urlsplit(part[1:part.index(">")]).query, keep_blank_values=True)
        others = {k: v for k, v in params.items() if k not in ("max_id", "since_id", "min_id")}
        assert query == {**{k: [v] for k, v in others.items()}, cursor: [value]}


# -- parameters ------------------------------------------------------------------------------


def test_rails_keys_nest() -> None:
    assert nest([("fields_attributes[0][name]", "a"), ("fields_attributes[0][value]", "b"),
                 ("source[privacy]", "unlisted"), ("ids[]", "1"), ("ids[]", "2"), ("plain", "x")]) == {
        "fields_attributes": {"0": {"name": "a", "value": "b"}}, "source": {"privacy": "unlisted"},
        "ids": ["1", "2"], "plain": "x"}
    assert nest([("odd[", "1"), ("]odd", "2")]) == {"odd[": "1", "]odd": "2"}
    for clash in ([("a", "1"), ("a[b]", "2")], [("a[b]", "1"), ("a", "2")], [("a[]", "1"), ("a[b]", "2")],
                  [("a[][b]", "1")], [("a[b][c][d][e][f]", "1")], [("k", "v")] * (MAX_PARAMS + 1)):
        with pytest.raises(ParamsError):
            nest(clash)


_NAMES = st.text(alphabet="abcdefghij_", min_size=1, max_size=6)
_TREES: Any = st.recursive(st.text(max_size=10), lambda inner: st.dictionaries(_NAMES, inner, min_size=1,
                                                                                 max_size=3), max_leaves=12)


def _flatten(prefix: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [pair for key, child in value.items() for pair in _flatten(f"{prefix}[{key}]", child)]
    return [(prefix, value)]


@given(st.dictionaries(_NAMES, _TREES, max_size=4))
def test_nesting_undoes_flattening(tree: dict[str, Any]) -> None:
    pairs = [pair for key, value in tree.items() for pair in _flatten(key, value)]
    if any(key.count("[") > 4 for key, _ in pairs):
        with pytest.raises(ParamsError):
            nest(pairs)
    else:
        assert nest(pairs) == tree


def test_params_read_as_the_route_expects() -> None:
    params = Params({"on": "1", "off": "false", "json": True, "bad": "perhaps", "list": ["a", "b"], "one": "x",
                     "items": {"1": {"v": "second"}, "0": {"v": "first"}}, "n": 5})
    assert params.flag("on") is True and params.flag("off") is False and params.flag("json") is True
    assert params.flag("missing") is None and params.text("n") == "5"
    assert params.strings("list") == ["a", "b"] and params.strings("one") == ["x"]
    assert [item.text("v") for item in params.items("items") or []] == ["first", "second"]
    with pytest.raises(ParamsError):
        params.flag("bad")
    with pytest.raises(ParamsError):
        params.text("one", limit=0)
    with pytest.raises(ParamsError):
        params.section("one")
    with pytest.raises(ParamsError):
        Params({"items": {"x": {}}}).items("items")


# -- redirect URIs ---------------------------------------------------------------------------


def test_redirect_uris_apps_may_register() -> None:
    assert check_redirect_uris([OOB, " https://app.example/cb ", "myapp://oauth", "http://127.0.0.1:8080/cb",
                                OOB]) == [OOB, "https://app.example/cb", "myapp://oauth", "http://127.0.0.1:8080/cb"]
    for bad in ("javascript:alert(1)", "data:text/html,x", "/relative", "https://app.example/cb#frag",
                "https://user:pw@app.example/", "https://app.example:99999/", "https://exa mple/", "https:///x"):
        with pytest.raises(InvalidRedirectUri):
            check_redirect_uris([bad])
    with pytest.raises(InvalidRedirectUri):
        check_redirect_uris(["", "  "])


def test_answers_are_added_to_the_uris_query() -> None:
    assert with_answer("https://app.example/cb?x=1", {"code": "c d", "state": None}) == \
        "https://app.example/cb?x=1&code=c+d"
    assert form_action_source("https://app.example:8443/cb?x") == "https://app.example:8443"
    assert form_action_source("myapp://oauth/cb") == "myapp:"
    assert form_action_source(OOB) is None
