"""What an inbox reads of a delivery before keeping it: its types, actor and object.

    envelope = read_envelope(orjson.loads(body))    # ActivityStreamsError if it is no activity

The whole activity is read by the inbox queue's drainer (weft.federation.activitystreams.
parse_object, about 20 times the cost); the inbox needs only whom the activity claims as
its actor (to match the signature's key), and, for a Delete, its object (a gone actor's
Delete of itself is answered without a key). Refused here, with a 400: what is not a JSON
object, has no type, or has no actor IRI. What passes and is malformed deeper down is
dropped by the drainer, with a note in the log, as anything it cannot use.
"""

from __future__ import annotations

from dataclasses import dataclass

from weft.federation.activitystreams_terms import read_types
from weft.federation.activitystreams_values import ActivityStreamsError, read_iri

__all__ = ["Envelope", "read_envelope"]


@dataclass(frozen=True)
class Envelope:
    types: tuple[str, ...]          # AS2 names without their namespace, as ASObject.types
    actor: str
    object: str | None              # the first object's IRI, if it has one

    def has_type(self, *names: str) -> bool:
        return any(name in self.types for name in names)


def read_envelope(document: object) -> Envelope:
    if not isinstance(document, dict):
        raise ActivityStreamsError("not a JSON object")
    types = read_types(document.get("type"), "type")
    if not types:
        raise ActivityStreamsError("type: an activity has a type")
    actor = _first_iri(document.get("actor"), "actor")
    if actor is None:
        raise ActivityStreamsError("actor: an activity needs an actor")
    return Envelope(types, actor, _first_iri(document.get("object"), "object"))


def _first_iri(value: object, path: str) -> str | None:
    """The IRI of the first value of a property: an IRI, or an object's ``id`` (a link's ``href``)."""
    if isinstance(value, list):
        if not value:
            return None
        value, path = value[0], f"{path}[0]"
    if value is None:
        return None
    if isinstance(value, dict):
        key = "href" if "href" in value and "id" not in value else "id"
        found = value.get(key)
        return None if found is None else read_iri(found, f"{path}.{key}")
    return read_iri(value, path)
