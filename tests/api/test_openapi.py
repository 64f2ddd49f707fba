"""The OpenAPI document of the native API: valid OpenAPI 3.1, one operation per route and
one route per operation, and every operation's answers (errors too) as it says, checked
on a real node served on loopback."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from referencing.exceptions import Unresolvable
from starlette.requests import Request
from starlette.routing import Route, WebSocketRoute

from weft import custody
from weft.api.openapi import OPENAPI_PATH, document
from weft.api.responses import int_param
from weft.api.routing import flattened
from weft.config import NodeConfig
from weft.core.content import KNOWN_TYPES
from weft.core.encoding import MAX_SAFE_INT
from weft.core.keys import SigningKey
from weft.errors import UsageError

from ..conftest import FakeClock
from .served import Served, serving

DOC = document()
MASTODON_PREFIXES = ("/api/v1/", "/api/v2/", "/oauth")


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A validator of ``schema``, set at the root of the document so its #/components refs resolve."""
    return Draft202012Validator({**DOC, **schema})


def schema_of(path: str, status: int | str, method: str = "get") -> dict[str, Any]:
    schema: dict[str, Any] = DOC["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]
    return schema


ERROR = validator({"$ref": "#/components/schemas/Error"})


def problems(schema_validator: Draft202012Validator, body: Any) -> list[str]:
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
            for error in schema_validator.iter_errors(body)]


class Answers:
    """Checks each answer against the document and remembers which (path, status) it saw."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.seen: set[tuple[str, str]] = set()

    async def get(self, template: str, path: str | None = None, expect: int = 200,
                  **params: str | int) -> Any:
        response = await self.client.get(path or template, params=params)
        code = str(response.status_code)
        assert response.status_code == expect, (path or template, response.text)
        assert code in DOC["paths"][template]["get"]["responses"], f"{template}: undocumented {code}"
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        found = problems(validator(schema_of(template, code)), body)
        assert not found, (path or template, found, body)
        self.seen.add((template, code))
        return body


def native_routes(app: Any) -> set[tuple[str, str]]:
    """(path, method) of the app's HTTP routes under /api/ that are not the Mastodon API."""
    found = set()
    for route in flattened(app.routes):
        if isinstance(route, Route) and route.path.startswith("/api/") \
                and not route.path.startswith(MASTODON_PREFIXES):
            found |= {(route.path, method.lower()) for method in route.methods or () if method != "HEAD"}
    return found


def test_the_document_is_valid_openapi_3_1_and_its_schemas_valid_json_schema() -> None:
    validate(DOC)
    assert DOC["openapi"] == "3.1.0"
    for schema in DOC["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)  # raises SchemaError, naming what is wrong


_BREAKAGES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "a response without a description": lambda doc: doc["paths"]["/api/feed"]["get"]["responses"]["200"].pop("description"),
    "a parameter in the body": lambda doc: doc["paths"]["/api/feed"]["get"]["parameters"][0].update({"in": "body"}),
    "an undeclared path parameter": lambda doc: doc["paths"]["/api/logs/{device}"]["get"].pop("parameters"),
    "a version that is not 3.1.x": lambda doc: doc.update({"openapi": "3.1"}),
    "a schema of no type": lambda doc: doc["components"]["schemas"]["Did"].update({"type": "strng"}),
    "a status that is not one": lambda doc: doc["paths"]["/api/node"]["get"]["responses"].update(
        {"2000": doc["paths"]["/api/node"]["get"]["responses"]["200"]}),
    "a reference to nothing": lambda doc: doc["components"]["schemas"]["Identity"]["properties"].update(
        {"did": {"$ref": "#/components/schemas/Nope"}}),
}


@pytest.mark.parametrize("breakage", _BREAKAGES.values(), ids=_BREAKAGES.keys())
def test_a_broken_document_is_refused(breakage: Callable[[dict[str, Any]], Any]) -> None:
    """The validator is not so lenient that our document's passing means little."""
    broken = copy.deepcopy(DOC)
    breakage(broken)
    with pytest.raises((OpenAPIValidationError, Unresolvable)):
        validate(broken)


def test_every_content_type_the_core_knows_is_described() -> None:
    described = {case["if"]["properties"]["type"]["const"] for case in DOC["components"]["schemas"]["Content"]["allOf"]}
    assert described == set(KNOWN_TYPES)


def test_errors_and_schemas_refuse_wrong_bodies() -> None:
    """The schemas are not so loose that anything passes."""
    assert not problems(ERROR, {"error": "nothing at /api/x"})
    wrong: Any
    for wrong in ({}, {"error": ""}, {"error": 404}, {"message": "x"}, {"error": "x", "status": 404}, []):
        assert problems(ERROR, wrong), wrong


async def test_every_native_route_is_documented_and_every_operation_is_a_route(
        make_config: Callable[[str], NodeConfig], clock: FakeClock) -> None:
    async with serving(make_config("n"), clock=clock, gossip=True) as served:
        routes = native_routes(served.app)
        documented = {(path, method) for path, item in DOC["paths"].items() for method in item}
        assert routes == documented
        # What is left under /api/: the gossip WebSocket (not HTTP) and the Mastodon API.
        paths = {str(getattr(route, "path", "")) for route in flattened(served.app.routes)}
        others = {path for path in paths if path.startswith("/api/") and (path, "get") not in documented}
        assert "/api/gossip" in others
        assert all(path == "/api/gossip" or path.startswith(MASTODON_PREFIXES) for path in others), others
        assert any(isinstance(route, WebSocketRoute) for route in flattened(served.app.routes))


async def _populate(served: Served, clock: FakeClock) -> dict[str, str]:
    """An operator and a hosted account with posts of every visibility, an edit, a delete,
    an expired post, reactions, a follow, an attachment and a content type nobody knows."""
    node = served.node
    await custody.init_identity(node, "Operator")
    alice = await served.site.accounts.sign_up("alice", "a fine password", display_name="Alice")
    as_alice = served.site.accounts.author(await served.site.accounts.account(alice.id))
    hers = await node.publish({"type": "post", "text": "hello from alice #weft"}, author=as_alice)
    await node.relate("follow", alice.did)
    blob = hashlib.sha256(b"a picture").hexdigest()
    public = await node.publish({
        "type": "post", "text": "look @alice", "mentions": [alice.did], "tags": ["weft"],
        "attachments": [{"blob": blob, "mime": "image/png", "alt": "a dot", "width": 1, "height": 1}, blob]})
    reply = await node.post("nice", reply_to=hers.id_text)
    unlisted = await node.post("quietly", visibility="unlisted", summary="a warning")
    private = await node.post("only followers", visibility="followers")
    direct = await node.post("between us", visibility="direct")
    edited = await node.edit(public.id_text, "look again @alice")
    private_edit = await node.edit(private.id_text, "only followers, edited")
    doomed = await node.post("deleted soon")
    await node.delete(doomed.id_text)
    fleeting = await node.post("gone soon", expires_in_ms=60_000)
    like = await node.react("like", hers.id_text)
    await node.react("boost", hers.id_text)
    unknown = await node.publish({"type": "weft.test/poll", "choices": ["a", "b"]})
    clock.advance(120_000)
    return {"alice": alice.did, "hers": hers.id_text, "public": public.id_text, "reply": reply.id_text,
            "unlisted": unlisted.id_text, "private": private.id_text, "direct": direct.id_text,
            "edited": edited.id_text, "private_edit": private_edit.id_text, "doomed": doomed.id_text,
            "fleeting": fleeting.id_text, "like": like.id_text, "unknown": unknown.id_text}


async def test_every_operation_answers_as_documented_with_real_data(
        make_config: Callable[[str], NodeConfig], clock: FakeClock) -> None:
    async with serving(make_config("n"), clock=clock, gossip=True) as served, served.client() as client:
        api = Answers(client)
        # Before the node has an identity.
        await api.get("/api/identity", expect=404)
        await api.get("/api/feed", expect=404)
        ids = await _populate(served, clock)

        assert await api.get("/api/health") == {"status": "ok"}
        node = await api.get("/api/node")
        assert node["gossip"]["key"] == served.node.transport_key().did and node["gossip"]["port"] > 0
        me = await api.get("/api/identity")
        assert me["profile"]["profile"]["name"] == "Operator"
        device = next(iter(me["state"]["devices"]))

        identities = "/api/identities/{did}"
        operator_log = await api.get(identities, f"/api/identities/{me['did']}")
        assert operator_log["ops"][0]["op"]["prev"] is None
        alice_log = await api.get(identities, f"/api/identities/{ids['alice']}")
        await api.get(identities, "/api/identities/did:weft:nope", expect=400)
        await api.get(identities, "/api/identities/did:weft:" + "a" * 48, expect=404)

        logs = "/api/logs/{device}"
        log = await api.get(logs, f"/api/logs/{device}", limit=1000)
        by_id = {item["id"]: item for item in log["entries"]}
        assert not log["more"] and {ids["public"], ids["unknown"], ids["like"]} <= set(by_id)
        for withheld in ("private", "direct", "private_edit", "doomed", "fleeting"):
            assert by_id[ids[withheld]]["content"] is None, withheld
        assert by_id[ids["unknown"]]["content"] == {"type": "weft.test/poll", "choices": ["a", "b"]}
        page = await api.get(logs, f"/api/logs/{device}", after=1, limit=2)
        assert [item["header"]["seq"] for item in page["entries"]] == [2, 3] and page["more"]
        alice_device = next(iter(alice_log["state"]["devices"]))
        await api.get(logs, f"/api/logs/{alice_device}")
        for bad in ({"limit": 0}, {"after": -1}, {"after": "one"}, {"after": "1_0"},
                    {"after": MAX_SAFE_INT + 1}, {"limit": "٣"}):
            await api.get(logs, f"/api/logs/{device}", expect=400, **bad)
        await api.get(logs, "/api/logs/did:key:nonsense", expect=400)
        await api.get(logs, f"/api/logs/{SigningKey(bytes(32)).did}", expect=404)

        entries = "/api/entries/{entry_id}"
        for shown in ("public", "hers", "reply", "unlisted", "edited", "doomed", "fleeting", "like", "unknown"):
            await api.get(entries, f"/api/entries/{ids[shown]}")
        detail = await api.get(entries, f"/api/entries/{ids['public'][:8]}")
        assert detail["post"]["text"] == "look again @alice" and len(detail["history"]) == 2
        gone = await api.get(entries, f"/api/entries/{ids['fleeting']}")
        assert gone["content"] is None and gone["post"]["deleted"] and gone["history"][0]["text"] is None
        for hidden in ("private", "direct", "private_edit"):
            await api.get(entries, f"/api/entries/{ids[hidden]}", expect=404)
        await api.get(entries, "/api/entries/zzzzzzzz", expect=404)
        await api.get(entries, "/api/entries/ab", expect=400)

        feed = await api.get("/api/feed", limit=50)
        assert {post["id"] for post in feed} == {ids["public"], ids["hers"], ids["reply"]}
        older = await api.get("/api/feed", before=feed[0]["ts"])
        assert feed[0]["id"] not in {post["id"] for post in older}
        for bad in ({"limit": "many"}, {"before": -5}, {"before": "10 "}):
            await api.get("/api/feed", expect=400, **bad)

        served_doc = await api.get(OPENAPI_PATH)
        assert served_doc == DOC

        documented = {(path, code) for path, item in DOC["paths"].items()
                      for code in item["get"]["responses"] if code != "default"}
        assert api.seen == documented, documented - api.seen

        # Errors outside the operations are JSON too: an unknown path, another method.
        missing = await client.get("/api/nowhere")
        assert missing.status_code == 404 and not problems(ERROR, missing.json())
        assert "/api/nowhere" in missing.json()["error"]
        posted = await client.post("/api/feed", content=b"{}")
        assert posted.status_code == 405 and not problems(ERROR, posted.json())
        assert set(posted.headers["allow"].split(", ")) == {"GET", "HEAD"} and "POST" in posted.json()["error"]

        # The schemas would catch a body that broke them.
        wrong_feed = copy.deepcopy(feed)
        wrong_feed[0]["visibility"] = "followers"
        assert problems(validator(schema_of("/api/feed", 200)), wrong_feed)
        wrong_log = copy.deepcopy(log)
        wrong_log["entries"][0]["header"]["seq"] = 0
        assert problems(validator(schema_of(logs, 200)), wrong_log)
        wrong_post = copy.deepcopy(by_id[ids["public"]])
        wrong_post["content"]["attachments"] = [{"blob": "not a digest"}]
        assert problems(validator({"$ref": "#/components/schemas/LogEntry"}), wrong_post)
        wrong_node = {**node, "did": "did:weft:NOPE"}
        assert problems(validator(schema_of("/api/node", 200)), wrong_node)


def _request(query: bytes) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "query_string": query, "headers": []})


@given(st.text())
def test_an_integer_parameter_is_a_number_in_range_or_a_usage_error(raw: str) -> None:
    query = httpx.QueryParams({"n": raw})
    try:
        value = int_param(_request(str(query).encode()), "n", 7, low=0)
    except UsageError:
        return
    digits = raw.removeprefix("-")
    if raw == "":
        assert value == 7
    else:
        assert digits.isascii() and digits.isdigit() and value == int(raw) and 0 <= value <= MAX_SAFE_INT


@given(st.integers(min_value=-10, max_value=2**70))
def test_an_integer_parameter_in_range_is_read_and_clamped(number: int) -> None:
    request = _request(f"n={number}".encode())
    if number < 1:
        with pytest.raises(UsageError):
            int_param(request, "n", 7, low=1, high=100, clamp=True)
    else:
        assert int_param(request, "n", 7, low=1, high=100, clamp=True) == min(number, 100)
