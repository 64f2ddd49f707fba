"""A hosted account's avatar and header named by a ``…/media/{digest}`` address are served
from this site, whichever node the address names: an account that arrived with its archive
brought the files along. Other people's images keep the rules they had."""

from __future__ import annotations

from dataclasses import replace

from weft.api.mastodon.entities import account_entity
from weft.core.blob_names import media_digest
from weft.store.people import Person
from weft.web.display import person_view

DIGEST = "ab" * 32
HERE = "https://b.example"


def _person(profile: dict[str, str], username: str | None) -> Person:
    return Person(identity=7, did="did:weft:x", profile=profile, username=username, account_settings={},
                  created_at=None, followers=0, following=0, statuses=0, last_status_at=None,
                  follow_requests=0)


def test_media_digest_reads_a_media_address_of_any_node() -> None:
    assert media_digest(f"https://a.example/media/{DIGEST}") == DIGEST
    assert media_digest(f"http://a.test:8001/media/{DIGEST}") == DIGEST
    for value in (DIGEST, f"https://a.example/media/{DIGEST}/x", f"https://a.example/media/{DIGEST}0",
                  f"https://a.example/other/{DIGEST}", f"ftp://a.example/media/{DIGEST}", None, 3):
        assert media_digest(value) is None, value


def test_an_arrived_accounts_images_are_served_here_and_others_keep_theirs() -> None:
    arrived = _person({"avatar": f"https://a.example/media/{DIGEST}",
                       "header": f"http://a.test:8001/media/{DIGEST}"}, "alice")
    assert person_view(arrived, HERE).avatar == f"/media/{DIGEST}"
    entity = account_entity(arrived, HERE)
    assert entity["avatar"] == entity["avatar_static"] == f"{HERE}/media/{DIGEST}"
    assert entity["header"] == f"{HERE}/media/{DIGEST}"

    # A weft identity not hosted here (met by gossip) keeps the https address its profile names.
    elsewhere = replace(arrived, username=None)
    assert person_view(elsewhere, HERE).avatar == f"https://a.example/media/{DIGEST}"
    assert account_entity(elsewhere, HERE)["avatar"] == f"https://a.example/media/{DIGEST}"


def test_the_actor_document_names_the_images_here() -> None:
    from weft.federation.documents_actor import AccountFacts, account_actor

    facts = AccountFacts(username="alice", did="did:weft:x", created_at=0, public_key_pem="",
                         profile={"avatar": f"http://a.test:8001/media/{DIGEST}",
                                  "header": "https://cdn.example/header.png"})
    document = account_actor(HERE, facts)
    assert document["icon"]["url"] == f"{HERE}/media/{DIGEST}"
    assert document["image"]["url"] == "https://cdn.example/header.png"
