"""RSS and Atom feeds of an account's public posts, read with the standard library's XML
parser from a node served on loopback."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from xml.etree import ElementTree

import httpx

from weft.accounts import Account
from weft.config import NodeConfig
from weft.core.entry import Entry
from weft.node import LocalIdentity
from weft.store import accounts as account_store
from weft.store import statuses

from ..api.served import Served, serving
from ..conftest import FakeClock

ATOM = "{http://www.w3.org/2005/Atom}"
PASSWORD = "a fine password"


async def _author(served: Served, account: Account) -> LocalIdentity:
    return served.site.accounts.author(await served.site.accounts.account(account.id))


async def _post(served: Served, account: Account, text: str, *, expires: int | None = None,
                **fields: Any) -> Entry:
    return await served.node.publish({"type": "post", "text": text, **fields}, expires=expires,
                                     author=await _author(served, account))


async def _status_id(served: Served, entry: Entry) -> int:
    async with served.node.db.read() as conn:
        row = await statuses.row_of_entry(conn, entry.id)
    assert row is not None
    return statuses.status_id(entry.ts, row)


async def _feeds(client: httpx.AsyncClient, username: str) -> tuple[ElementTree.Element, ElementTree.Element]:
    """(RSS channel, Atom feed) of ``username``, checked for type and caching, and the RSS the
    same at /users/name.rss as at /@name.rss."""
    rss = await client.get(f"/@{username}.rss")
    assert rss.status_code == 200, rss.text
    assert rss.headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert rss.headers["cache-control"] == "public, max-age=60"
    mastodon_style = await client.get(f"/users/{username}.rss")
    assert mastodon_style.status_code == 200 and mastodon_style.content == rss.content
    atom = await client.get(f"/@{username}.atom")
    assert atom.status_code == 200, atom.text
    assert atom.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert atom.headers["cache-control"] == "public, max-age=60"
    root = ElementTree.fromstring(rss.content)  # raises unless well-formed
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    feed = ElementTree.fromstring(atom.content)
    assert feed.tag == f"{ATOM}feed"
    return channel, feed


def _rss_items(channel: ElementTree.Element) -> dict[str, ElementTree.Element]:
    return {item.findtext("guid", ""): item for item in channel.findall("item")}


def _atom_entries(feed: ElementTree.Element) -> dict[str, ElementTree.Element]:
    return {entry.findtext(f"{ATOM}id", ""): entry for entry in feed.findall(f"{ATOM}entry")}


def _atom_time(text: str | None) -> int:
    assert text is not None and text.endswith("Z")
    return int(datetime.fromisoformat(text).timestamp() * 1000)


async def test_a_feed_holds_what_anyone_may_see_and_nothing_else(
        make_config: Callable[[str], NodeConfig], clock: FakeClock) -> None:
    async with serving(make_config("n"), clock=clock) as served, served.client() as client:
        alice = await served.site.accounts.sign_up("alice", PASSWORD, display_name="Alice Liddell")
        kept: dict[str, Entry] = {}
        for visibility in ("public", "unlisted", "followers", "direct"):
            for fate in ("alive", "deleted", "expired"):
                text = f"{visibility} {fate} post"
                entry = await _post(served, alice, text, visibility=visibility,
                                    expires=clock.now_ms() + 60_000 if fate == "expired" else None)
                if fate == "deleted":
                    await served.node.publish({"type": "delete", "target": entry.id_text},
                                              author=await _author(served, alice))
                kept[text] = entry
                clock.advance(1000)
        clock.advance(120_000)  # past every expiry
        channel, feed = await _feeds(client, "alice")
        base = served.url
        assert channel.findtext("title") == "Alice Liddell" and channel.findtext("link") == f"{base}/@alice"
        assert feed.findtext(f"{ATOM}title") == "Alice Liddell"
        shown = {f"{base}/@alice/{await _status_id(served, kept[text])}": text
                 for text in ("public alive post", "unlisted alive post")}
        rss_items, atom_entries = _rss_items(channel), _atom_entries(feed)
        assert set(rss_items) == set(atom_entries) == set(shown)
        # Newest first, each with its own text and time.
        assert [item.findtext("guid") for item in channel.findall("item")] == list(reversed(shown))
        for url, text in shown.items():
            assert rss_items[url].findtext("link") == url
            guid = rss_items[url].find("guid")
            assert guid is not None and guid.get("isPermaLink") == "true"
            assert rss_items[url].findtext("description") == f"<p>{text}</p>"
            published = parsedate_to_datetime(rss_items[url].findtext("pubDate", ""))
            entry_ts = kept[text].ts
            assert int(published.timestamp()) == entry_ts // 1000
            assert atom_entries[url].findtext(f"{ATOM}content") == f"<p>{text}</p>"
            assert _atom_time(atom_entries[url].findtext(f"{ATOM}published")) == entry_ts
        for response in (await client.get("/@alice.rss"), await client.get("/@alice.atom")):
            for hidden in ("followers", "direct", "deleted", "expired"):
                assert hidden.encode() not in response.content


async def test_only_the_twenty_newest_posts_are_in_a_feed(
        make_config: Callable[[str], NodeConfig], clock: FakeClock) -> None:
    async with serving(make_config("n"), clock=clock) as served, served.client() as client:
        bob = await served.site.accounts.sign_up("bob", PASSWORD)
        for number in range(25):
            await _post(served, bob, f"number {number}")
            clock.advance(1000)
        channel, feed = await _feeds(client, "bob")
        assert channel.findtext("title") == "bob"  # no display name: the username
        expected = [f"<p>number {number}</p>" for number in range(24, 4, -1)]
        assert [item.findtext("description") for item in channel.findall("item")] == expected
        assert [entry.findtext(f"{ATOM}content") for entry in feed.findall(f"{ATOM}entry")] == expected


async def test_an_edited_post_shows_its_new_text(make_config: Callable[[str], NodeConfig], clock: FakeClock) -> None:
    async with serving(make_config("n"), clock=clock) as served, served.client() as client:
        alice = await served.site.accounts.sign_up("alice", PASSWORD)
        original = await _post(served, alice, "first thoughts")
        clock.advance(60_000)
        edit = await served.node.publish({"type": "edit", "target": original.id_text, "text": "second thoughts"},
                                         author=await _author(served, alice))
        channel, feed = await _feeds(client, "alice")
        [item] = channel.findall("item")
        assert item.findtext("description") == "<p>second thoughts</p>"
        [entry] = feed.findall(f"{ATOM}entry")
        assert entry.findtext(f"{ATOM}content") == "<p>second thoughts</p>"
        assert _atom_time(entry.findtext(f"{ATOM}published")) == original.ts
        assert _atom_time(entry.findtext(f"{ATOM}updated")) == edit.ts
        assert _atom_time(feed.findtext(f"{ATOM}updated")) == edit.ts
        for path in ("/@alice.rss", "/@alice.atom"):
            assert b"first thoughts" not in (await client.get(path)).content


async def test_a_content_warning_is_the_title_and_never_the_text(
        make_config: Callable[[str], NodeConfig], clock: FakeClock) -> None:
    async with serving(make_config("n"), clock=clock) as served, served.client() as client:
        alice = await served.site.accounts.sign_up("alice", PASSWORD, display_name="Alice")
        await _post(served, alice, "the butler did it", summary="spoilers", sensitive=True)
        clock.advance(1000)
        await _post(served, alice, "a plain post")
        channel, feed = await _feeds(client, "alice")
        plain, warned = channel.findall("item")
        assert warned.findtext("title") == "spoilers"
        assert warned.findtext("description") == "<p>the butler did it</p>"
        assert plain.find("title") is None and plain.findtext("description") == "<p>a plain post</p>"
        plain_entry, warned_entry = feed.findall(f"{ATOM}entry")
        assert warned_entry.findtext(f"{ATOM}title") == "spoilers"
        summary = warned_entry.find(f"{ATOM}summary")
        assert summary is not None and summary.text == "spoilers" and summary.get("type") == "text"
        assert warned_entry.findtext(f"{ATOM}content") == "<p>the butler did it</p>"
        assert plain_entry.find(f"{ATOM}summary") is None
        assert plain_entry.findtext(f"{ATOM}title") == "New post by Alice"


async def test_image_attachments_are_enclosures(make_config: Callable[[str], NodeConfig], clock: FakeClock) -> None:
    async with serving(make_config("n"), clock=clock) as served, served.client() as client:
        alice = await served.site.accounts.sign_up("alice", PASSWORD)
        picture = b"\x89PNG pretend this is a picture"
        held = served.site.blobs.put(picture)
        elsewhere = hashlib.sha256(b"a photo this node never fetched").hexdigest()
        notes = hashlib.sha256(b"not an image").hexdigest()
        await _post(served, alice, "look", attachments=[
            {"blob": held, "mime": "image/png", "alt": "a dot", "width": 1, "height": 1},
            {"blob": elsewhere, "mime": "image/jpeg"},
            {"blob": notes, "mime": "text/plain"}])
        channel, feed = await _feeds(client, "alice")
        [item] = channel.findall("item")
        assert [dict(enclosure.attrib) for enclosure in item.findall("enclosure")] == [
            {"url": f"{served.url}/media/{held}", "type": "image/png", "length": str(len(picture))},
            {"url": f"{served.url}/media/{elsewhere}", "type": "image/jpeg", "length": "0"}]
        [entry] = feed.findall(f"{ATOM}entry")
        enclosures = [dict(link.attrib) for link in entry.findall(f"{ATOM}link") if link.get("rel") == "enclosure"]
        assert enclosures == [
            {"rel": "enclosure", "type": "image/png", "href": f"{served.url}/media/{held}",
             "length": str(len(picture))},
            {"rel": "enclosure", "type": "image/jpeg", "href": f"{served.url}/media/{elsewhere}"}]


async def test_hostile_text_stays_escaped_and_the_feed_well_formed(
        make_config: Callable[[str], NodeConfig], clock: FakeClock) -> None:
    async with serving(make_config("n"), clock=clock) as served, served.client() as client:
        name = "<b>Mal</b> ]]> &amp; \x07"
        mallory = await served.site.accounts.sign_up("mallory", PASSWORD, display_name=name)
        text = "<script>alert(1)</script> ]]> <![CDATA[ x ]]> &lt; \x00\x01\x08\x0b\x0c\x1b\x7f \ufffe\uffff #tag @mallory"
        await _post(served, mallory, text, summary="cw\x00 <i>x</i> ]]>", mentions=[mallory.did])
        for path in ("/@mallory.rss", "/@mallory.atom"):
            raw = (await client.get(path)).content
            assert b"<script" not in raw and b"<![CDATA[" not in raw and b"\x00" not in raw
        channel, feed = await _feeds(client, "mallory")
        [item] = channel.findall("item")
        html = item.findtext("description", "")
        # What the reader gets is core.text's HTML: the person's markup as escaped text.
        assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "]]&gt;" in html and "&amp;lt;" in html
        assert "\x00" not in html and "\ufffd" in html
        assert f'<a href="{served.url}/tags/tag" class="mention hashtag" rel="tag">' in html
        assert f'href="{served.url}/@mallory" class="u-url mention"' in html
        assert channel.findtext("title") == "<b>Mal</b> ]]> &amp; \ufffd"
        assert item.findtext("title") == "cw\ufffd <i>x</i> ]]>"
        [entry] = feed.findall(f"{ATOM}entry")
        assert entry.findtext(f"{ATOM}content") == html
        assert feed.findtext(f"{ATOM}title") == "<b>Mal</b> ]]> &amp; \ufffd"


async def test_no_feed_for_an_unknown_pending_or_disabled_account(
        make_config: Callable[[str], NodeConfig], clock: FakeClock) -> None:
    async with serving(make_config("n"), clock=clock) as served, served.client() as client:
        carol = await served.site.accounts.sign_up("carol", PASSWORD)
        await _post(served, carol, "carol was here")
        await served.site.accounts.set_registration_mode("approval")
        dave = await served.site.accounts.sign_up("dave", PASSWORD)
        assert dave.state == "pending"
        await _post(served, dave, "dave was here")
        async with served.node.db.write() as conn:
            await account_store.update_account(conn, carol.id, state="disabled")
        for name in ("carol", "dave", "nobody", "carol.rss", "did:weft:" + "a" * 48):
            for path in (f"/@{name}.rss", f"/@{name}.atom", f"/users/{name}.rss"):
                response = await client.get(path)
                assert response.status_code == 404, (path, response.text)
                assert b"was here" not in response.content
