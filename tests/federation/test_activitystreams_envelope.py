"""The inbox's envelope reading (weft.federation.activitystreams_envelope): it agrees with the
whole reader on every activity of the W3C corpus and the Fediverse captures, refuses what
is no activity with ActivityStreamsError, and nothing else escapes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from weft.federation.activitystreams import ActivityStreamsError, ASObject, iri_of, parse_document
from weft.federation.activitystreams_envelope import read_envelope

from .test_activitystreams_corpus import CAPTURED, GOOD

ACTOR = "https://example.social/users/bob"


def _activities() -> list[Path]:
    """Documents of the corpus and captures whose whole reading is an object with an actor."""
    found = []
    for path in [*GOOD, *CAPTURED]:
        document = parse_document(path.read_bytes())
        if isinstance(document, ASObject) and document.actor and iri_of(document.actor[0]):
            found.append(path)
    return found


ACTIVITIES = _activities()


def test_there_are_activities_to_compare() -> None:
    assert len(ACTIVITIES) >= 40


@pytest.mark.parametrize("path", ACTIVITIES, ids=lambda path: path.name)
def test_the_envelope_agrees_with_the_whole_reading(path: Path) -> None:
    whole = parse_document(path.read_bytes())
    assert isinstance(whole, ASObject)
    envelope = read_envelope(orjson.loads(path.read_bytes()))
    assert envelope.types == whole.types
    assert envelope.actor == iri_of(whole.actor[0])
    assert envelope.object == (iri_of(whole.object[0]) if whole.object else None)


@pytest.mark.parametrize(("actor", "expected"), [
    (ACTOR, ACTOR), ({"type": "Person", "id": ACTOR}, ACTOR), ([ACTOR, "https://other.example/u/x"], ACTOR),
    ({"type": "Link", "href": ACTOR}, ACTOR)])
def test_the_actor_is_read_in_each_of_its_forms(actor: Any, expected: str) -> None:
    envelope = read_envelope({"type": ["as:Delete"], "actor": actor, "object": {"id": ACTOR}})
    assert envelope.actor == expected and envelope.has_type("Delete") and envelope.object == ACTOR


@pytest.mark.parametrize(("document", "complaint"), [
    ([1, 2], "not a JSON object"), ({"actor": ACTOR}, "has a type"), ({"type": "Like"}, "needs an actor"),
    ({"type": "Like", "actor": "bob"}, "not an absolute IRI"), ({"type": "Like", "actor": []}, "needs an actor"),
    ({"type": "Like", "actor": {"name": "Bob"}}, "needs an actor"), ({"type": 7, "actor": ACTOR}, "type"),
    ({"type": "Like", "actor": ACTOR, "object": "not an iri"}, "object")])
def test_what_is_no_activity_is_refused_saying_why(document: Any, complaint: str) -> None:
    with pytest.raises(ActivityStreamsError, match=complaint):
        read_envelope(document)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)


@given(st.fixed_dictionaries({}, optional={"type": JSON | st.sampled_from(["Create", "as:Like"]),
                                           "actor": JSON | st.just(ACTOR), "object": JSON}))
def test_nothing_but_a_refusal_escapes(document: dict[str, Any]) -> None:
    try:
        envelope = read_envelope(document)
    except ActivityStreamsError:
        return
    assert envelope.types and envelope.actor
