"""Hostile text on the social pages comes out as text: no element, attribute, script or
javascript: link that a person typed reaches a page. Pages are parsed as a browser would
and every element checked, rather than searched for a few strings."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser

from weft.config import NodeConfig
from weft.store.statuses import Page

from .site_server import serving
from .social_people import ENV, jpeg, people

HOSTILE = '<script>alert(1)</script> "><img src=x onerror=alert(2)> javascript:alert(3) <a href="javascript:alert(4)">x</a>'
OUR_SCRIPT = {"src": "/static/weft.js", "defer": None}


class Elements(HTMLParser):
    """Every start tag of a page, with its attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def problems_in(html: str) -> list[str]:
    parser = Elements()
    parser.feed(html)
    found = []
    for tag, attrs in parser.tags:
        if tag == "script" and attrs != OUR_SCRIPT:
            found.append(f"script {attrs}")
        if tag in ("iframe", "object", "embed", "base", "frame"):
            found.append(tag)
        for name, value in attrs.items():
            if name.startswith("on") or name in ("style", "srcdoc", "formaction"):
                found.append(f"{tag} {name}={value!r}")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(("javascript:", "data:")):
                found.append(f"{tag} {name}={value!r}")
        if tag == "img" and attrs.get("src", "").startswith("http") and not attrs["src"].startswith("https://"):
            found.append(f"img from {attrs['src']!r}")
    return found


async def test_hostile_posts_profiles_and_alt_texts_stay_text(make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n"), environ=ENV) as running, people(running) as folks:
        mallory = await folks.join("mallory")
        alice = await folks.join("alice")
        site = running.site
        await site.node.publish({
            "type": "profile", "name": '"><script>alert(5)</script>', "bio": HOSTILE,
            "fields": [["<b>field</b>", "javascript:alert(6)"], ["site", 'https://x.example/"><script>alert(7)</script>']],
            "avatar": "javascript:alert(8)", "header": 'https://x.example/h.png" onerror="alert(9)'},
            author=site.accounts.author(mallory.account))
        posted = await mallory.publish(f"@alice {HOSTILE}", images=((jpeg(), '"><script>alert(10)</script>'),),
                                       summary='<b onmouseover="alert(11)">warning</b>')
        assert posted.status_code == 303
        (post,) = [s for s in await site.social.statuses.timeline(mallory.account, "account", Page(),
                                                                   account=mallory.account.identity)]
        await site.social.posting.edit(mallory.account, post.id, text=f"edited {HOSTILE}",
                                       summary='<b onmouseover="alert(11)">warning</b>')

        pages = {}
        for who, path in ((alice, "/"), (alice, "/local"), (alice, "/public"), (alice, "/@mallory"),
                          (alice, f"/@mallory/{post.id}"), (alice, "/notifications"), (alice, "/@mallory/followers"),
                          (mallory, f"/statuses/{post.id}/edit"), (mallory, f"/statuses/{post.id}/delete"),
                          (alice, f"/compose?reply_to={post.id}")):
            response = await who.get(path)
            assert response.status_code == 200, (path, response.text)
            pages[path] = response.text
            assert problems_in(response.text) == [], path
        thread = pages[f"/@mallory/{post.id}"]
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in thread  # shown, as text
        assert "&lt;a href=&quot;javascript:alert(4)&quot;&gt;" in thread
        assert "&lt;b onmouseover=" in thread and 'alt="&#34;&gt;&lt;script&gt;alert(10)&lt;/script&gt;"' in thread
        profile = pages["/@mallory"]
        assert "&#34;&gt;&lt;script&gt;alert(5)&lt;/script&gt;" in profile
        assert "&lt;b&gt;field&lt;/b&gt;" in profile
        assert 'src="/avatars/original/missing.png"' in profile  # a javascript: avatar is not taken
        assert 'src="https://x.example/h.png&#34; onerror=&#34;alert(9)"' in profile  # one URL, quoted
        assert "edited &lt;script&gt;alert(1)&lt;/script&gt;" in pages[f"/statuses/{post.id}/edit"]  # in the textarea
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in thread.split("Edit history")[1]  # the first version


def test_the_checker_sees_what_it_looks_for() -> None:
    assert problems_in('<p><img src=x onerror="alert(1)"></p>') == ["img onerror='alert(1)'"]
    assert problems_in('<a href=" JavaScript:alert(1)">x</a>') == ["a href=' JavaScript:alert(1)'"]
    assert problems_in("<script>alert(1)</script>") == ["script {}"]
    assert problems_in('<script src="/static/weft.js" defer></script><p>&lt;script&gt;</p>') == []
