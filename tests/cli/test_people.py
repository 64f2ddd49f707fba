"""Three people, three nodes: archives carry posts between them; follow, block and mute decide what shows."""

from __future__ import annotations

from pathlib import Path

from .program import out, weft, weft_many


def feeds(*homes: Path) -> list[set[str]]:
    """The texts in each home's feed (the homes are asked at the same time)."""
    texts = []
    for run in weft_many(*((("feed", "--json"), home) for home in homes)):
        posts = run.json()
        assert isinstance(posts, list)
        texts.append({post["text"] for post in posts})
    return texts


def test_following_shows_posts_and_blocking_or_muting_hides_them(
        people: dict[str, tuple[Path, str]], tmp_path: Path) -> None:
    (alice, _), (bob, bob_did), (carol, _) = people["alice"], people["bob"], people["carol"]
    _, bobs, _ = weft_many((("post", "alice here"), alice), (("post", "bob here"), bob),
                           (("post", "carol here"), carol))
    archive = tmp_path / "bob.weft"
    assert bob_did in out(weft("export", str(archive), data=bob))

    # Alice and Carol take in Bob's history and follow him: his post joins their feeds.
    weft_many((("import", str(archive)), alice), (("import", str(archive)), carol))
    weft_many((("follow", bob_did), alice), (("follow", bob_did), carol))
    assert feeds(alice, carol) == [{"bob here", "alice here"}, {"bob here", "carol here"}]

    # Alice likes Bob's post on her node; the count is hers to see. She follows only Bob.
    weft("like", out(bobs)[:8], data=alice)
    shown, me = weft_many((("show", out(bobs), "--json"), alice), (("whoami", "--json"), alice))
    assert shown.json()["post"]["likes"] == 1  # type: ignore[index]
    assert me.json()["following"] == [bob_did]  # type: ignore[index]

    # Alice blocks Bob, Carol mutes him: he is gone from both feeds; unmuting brings him back.
    weft_many((("block", bob_did), alice), (("mute", bob_did), carol))
    assert feeds(alice, carol) == [{"alice here"}, {"carol here"}]
    weft("unmute", bob_did, data=carol)
    assert feeds(carol) == [{"bob here", "carol here"}]
