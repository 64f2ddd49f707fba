"""The web app's home page shows the boosts of whom one follows, "Boosted by" them, in time
with the posts, and its "Older posts" link goes on from a boost as from a post."""

from __future__ import annotations

import re
from collections.abc import Callable

from weft.config import NodeConfig

from .site_server import serving
from .social_people import ENV, people

OLDER = re.compile(r'href="/\?max_id=(\d+)" rel="next"')


async def test_the_home_page_shows_boosts_and_pages_on_from_one(make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n"), environ=ENV) as running, people(running) as folks:
        alice, bob, dave = [await folks.join(name) for name in ("alice", "bob", "dave")]
        social = running.site.social
        await social.following.relate(alice.account, bob.account.identity, "follow")
        old = await dave.compose("an old thought of Dave")
        between = await bob.compose("bob, before boosting")
        boosted = await social.posting.react(bob.account, old.id, "reblog", on=True)
        assert boosted.boost is not None
        for n in range(19):
            await bob.compose(f"Bob, post number {n}")

        first = await alice.get("/")
        assert first.status_code == 200, first.text
        assert "Boosted by" in first.text and "an old thought of Dave" in first.text
        assert first.text.index("Bob, post number 0<") < first.text.index("Boosted by")   # the oldest there
        assert "bob, before boosting" not in first.text
        link = OLDER.search(first.text)
        assert link is not None and int(link.group(1)) == boosted.id
        second = await alice.get(f"/?max_id={link.group(1)}")
        assert second.status_code == 200, second.text
        assert "bob, before boosting" in second.text and f'id="s-{between.id}"' in second.text
        assert "Boosted by" not in second.text
