"""Plain-text posts become safe HTML: links, mentions and hashtags by Mastodon's rules, and nothing a person typed as markup."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weft.core.text import (
    Hashtag,
    LineBreak,
    Link,
    Mention,
    ParagraphBreak,
    Text,
    Token,
    UnsafeHref,
    count_characters,
    hashtags,
    links,
    mentions,
    parse,
    render_html,
    to_summary_html,
)


def account_href(username: str, host: str | None) -> str | None:
    """Resolves every account but bob's, so both kinds of mention are rendered."""
    if username.lower().startswith("b"):
        return None
    return f"https://weft.test/@{username}" + (f"@{host}" if host else "") + "?a=1&b=\"'<>"


def tag_href(name: str) -> str:
    return f"/tags/{name}?x=\"'<>&"


def render(text: str) -> str:
    return render_html(text, mention_href=account_href, tag_href=tag_href)


# -- parsing: mentions ---------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("@alice", [Mention("alice", None, "@alice")]),
    ("@alice@example.com", [Mention("alice", "example.com", "@alice@example.com")]),
    ("@Alice@Example.COM", [Mention("Alice", "example.com", "@Alice@Example.COM")]),
    ("@alice@bücher.de", [Mention("alice", "bücher.de", "@alice@bücher.de")]),
    ("@alice@日本.jp", [Mention("alice", "日本.jp", "@alice@日本.jp")]),
    ("@a.b-c_d", [Mention("a.b-c_d", None, "@a.b-c_d")]),
    ("hi @alice.", [Text("hi "), Mention("alice", None, "@alice"), Text(".")]),
    ("@alice@example.com.", [Mention("alice", "example.com", "@alice@example.com"), Text(".")]),
    ("(@alice)", [Text("("), Mention("alice", None, "@alice"), Text(")")]),
    ("@alice, @bob!", [Mention("alice", None, "@alice"), Text(", "),
                       Mention("bob", None, "@bob"), Text("!")]),
    ("@alice-", [Mention("alice", None, "@alice"), Text("-")]),
    ("@alice@", [Mention("alice", None, "@alice"), Text("@")]),
    ("@alice:", [Mention("alice", None, "@alice"), Text(":")]),
    # A server on a LAN or a test machine has a port; a colon without one ends the mention.
    ("@bob@b.test:8002 hi", [Mention("bob", "b.test:8002", "@bob@b.test:8002"), Text(" hi")]),
    ("@bob@b.test: hi", [Mention("bob", "b.test", "@bob@b.test"), Text(": hi")]),
    ("@bob@b.test:80x", [Mention("bob", "b.test", "@bob@b.test"), Text(":80x")]),
    ("@bob@b.test:0", [Mention("bob", "b.test", "@bob@b.test"), Text(":0")]),
])
def test_mentions_end_where_mastodon_ends_them(text: str, expected: list[Token]) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize("text", [
    "mail@example.com",      # an e-mail address: "@" after a word character
    "x@alice",
    "@",
    "@.alice",               # a username starts with a letter, digit or underscore
    "@-alice",
    "@josé",                 # not a mention of "jos"
    "@alice@bad..host",      # hosts are domain names
    "@alice@-bad.example",
    "@alice@" + "a" * 64 + ".com",   # a DNS label has at most 63 octets
])
def test_what_is_not_a_mention(text: str) -> None:
    assert not any(isinstance(token, Mention) for token in parse(text))


def test_mentions_are_listed_once_each_in_order() -> None:
    text = "@bob hi @alice@example.com and @Bob, @alice, @alice@EXAMPLE.com"
    assert mentions(text) == [("bob", None), ("alice", "example.com"), ("alice", None)]


# -- parsing: hashtags ---------------------------------------------------------------


@pytest.mark.parametrize(("text", "name"), [
    ("#tag", "tag"),
    ("#café", "café"),
    ("#cafe\u0301", "cafe\u0301"),        # a combining accent is part of the word
    ("#日本語", "日本語"),
    ("#हिन्दी", "हिन्दी"),                # viramas are marks, not ends of the tag
    ("#1a", "1a"),
    ("#a_1", "a_1"),
    ("#a·b", "a·b"),
    ("(#tag)", "tag"),
    ("#tag!", "tag"),
    ("#tag.", "tag"),
    ("#a·", "a"),
    ("#" + "a" * 100, "a" * 100),
])
def test_hashtags_by_mastodons_rules(text: str, name: str) -> None:
    assert [t for t in parse(text) if isinstance(t, Hashtag)] == [Hashtag(name)]


@pytest.mark.parametrize("text", [
    "#123", "#", "# tag", "a#b", "#·a", "##", "#" + "a" * 101, "x_#tag", "#²", "#½", "#1½",
])
def test_what_is_not_a_hashtag(text: str) -> None:
    assert hashtags(text) == []


def test_hashtags_are_normalized_and_listed_once() -> None:
    assert hashtags("#Café #cafe\u0301 #CAFÉ #日本語 #ｗｅｆｔ #Weft") == ["café", "日本語", "weft"]


# -- parsing: links ------------------------------------------------------------------


@pytest.mark.parametrize(("text", "url"), [
    ("https://example.com", "https://example.com"),
    ("see https://example.com/a.", "https://example.com/a"),
    ("https://example.com/a, b", "https://example.com/a"),
    ("https://example.com/?!", "https://example.com/"),
    ("https://example.com/a;:", "https://example.com/a"),
    ("'https://example.com/a'", "https://example.com/a"),
    ("https://en.wikipedia.org/wiki/Foo_(bar)", "https://en.wikipedia.org/wiki/Foo_(bar)"),
    ("(see https://en.wikipedia.org/wiki/Foo_(bar))", "https://en.wikipedia.org/wiki/Foo_(bar)"),
    ("(see https://example.com/a)", "https://example.com/a"),
    ("[https://example.com/a]", "https://example.com/a"),
    ("HTTP://EXAMPLE.COM/A", "HTTP://EXAMPLE.COM/A"),
    ("https://example.com:8443/x?q=1&r=2#frag", "https://example.com:8443/x?q=1&r=2#frag"),
    ("https://bücher.de/straße", "https://bücher.de/straße"),
    ("https://example.com<script>", "https://example.com"),
    ('"https://example.com/a"', "https://example.com/a"),
    ("x:https://example.com", "https://example.com"),
    ("https://example.com/a\u200bb", "https://example.com/a"),   # invisible characters end URLs
    ("https://example.com/a\x00b", "https://example.com/a"),
])
def test_links_drop_trailing_punctuation_and_keep_balanced_parentheses(text: str, url: str) -> None:
    assert links(text) == [url]


@pytest.mark.parametrize("text", [
    "javascript:alert(1)", "data:text/html,<b>hi</b>", "ftp://example.com", "www.example.com",
    "https://", "https://.", "https://-x-.com", "https://user:secret@example.com",
    "https://example.com:123456", "https://localhost/", "xhttps://example.com", "https://exa mple.com",
])
def test_what_is_not_a_link(text: str) -> None:
    assert links(text) == []


@pytest.mark.parametrize(("url", "display"), [
    ("https://example.com/", "example.com/"),
    ("http://www.example.com/a", "example.com/a"),
    ("https://www.example.com/" + "a" * 18, "example.com/" + "a" * 18),  # exactly 30
    ("https://www.example.com/" + "a" * 19, "example.com/" + "a" * 18 + "…"),
    ("https://example.com/www.x", "example.com/www.x"),
])
def test_link_display_drops_scheme_and_www_and_cuts_at_30(url: str, display: str) -> None:
    assert parse(url) == [Link(url, display)]
    assert f'<a href="{url}" rel="nofollow noopener noreferrer" target="_blank">{display}</a>' in render(url)


# -- lengths -------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "length"), [
    ("", 0),
    ("hello", 5),
    ("日本語 👍", 5),                            # code points, not bytes
    ("see https://example.com/" + "a" * 100, 4 + 23),
    ("http://a.b", 23),                        # short links count 23 too
    ("@alice@example.com hi", len("@alice hi")),
    ("@alice hi", 9),
    ("mail@example.com", 16),
    ("a\r\nb", 4),
])
def test_count_characters_weighs_urls_23_and_remote_mentions_as_local(text: str, length: int) -> None:
    assert count_characters(text) == length


# -- rendering -----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("", ""),
    (" \n\n \t", ""),
    ("hello", "<p>hello</p>"),
    ("a\nb", "<p>a<br />b</p>"),
    ("a\r\nb\rc", "<p>a<br />b<br />c</p>"),
    ("a\n\nb", "<p>a</p><p>b</p>"),
    ("a\r\n\r\n\n\nb\nc", "<p>a</p><p>b<br />c</p>"),
    ("\n\na\n", "<p>a</p>"),
    ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
    ("\"quotes\" & 'apostrophes'", "<p>&quot;quotes&quot; &amp; &#x27;apostrophes&#x27;</p>"),
    ("hi @bob", "<p>hi @bob</p>"),                # bob is not resolved: plain text
    ("hi @alice@example.com",
     '<p>hi <span class="h-card"><a href="https://weft.test/@alice@example.com?a=1&amp;b=&quot;'
     '&#x27;&lt;&gt;" class="u-url mention">@<span>alice</span></a></span></p>'),
    ("#Café",
     '<p><a href="/tags/café?x=&quot;&#x27;&lt;&gt;&amp;" class="mention hashtag" rel="tag">'
     "#<span>Café</span></a></p>"),
    ("https://example.com/?a=1&b='",
     '<p><a href="https://example.com/?a=1&amp;b=" rel="nofollow noopener noreferrer" '
     'target="_blank">example.com/?a=1&amp;b=</a>&#x27;</p>'),
])
def test_render_html(text: str, expected: str) -> None:
    assert render(text) == expected


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "data:text/html,x", "", "  /x", "mailto:a@b"])
def test_resolvers_cannot_give_unsafe_hrefs(bad: str) -> None:
    with pytest.raises(UnsafeHref, match="mention_href returned"):
        render_html("@alice", mention_href=lambda user, host: bad, tag_href=tag_href)
    with pytest.raises(UnsafeHref, match="tag_href returned"):
        render_html("#tag", mention_href=account_href, tag_href=lambda name: bad)


def test_summary_is_one_escaped_line() -> None:
    assert to_summary_html("  Spoilers <b>\n\n for\r\nS2 & more  ") == "Spoilers &lt;b&gt; for S2 &amp; more"
    assert to_summary_html("\n") == ""


# -- properties ----------------------------------------------------------------------

PIECES = ["https://", "http://", "HTTPS://", "www.", "example.com", "bücher.de", "日本.jp", "@",
          "@", "#", "#", ".", ",", "!", "?", ":", ";", "(", ")", "[", "]", "/", "-", "_", "·",
          "'", '"', "<", ">", "&", "&amp;", "\n", "\n", "\r", "\r\n", " ", " ", "\t", "alice",
          "Bob", "tag", "123", "café", "e\u0301", "日本語", "हिन्दी", "javascript:", "<script>",
          "\u200c", "\x00", "\u2028", "😀", "ſ", "a" * 40, ":8080", "?q=1", "#f"]
texts = st.lists(st.sampled_from(PIECES) | st.text(max_size=4), max_size=30).map("".join)
ALLOWED_TAGS = {"p", "br", "a", "span"}
ALLOWED_ATTRIBUTES = {"href", "rel", "target", "class"}


class HtmlShape(HTMLParser):
    """Records the tags, attributes, hrefs and character data of rendered HTML."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: set[str] = set()
        self.hrefs: list[str | None] = []
        self.open: list[str] = []
        self.data: list[str] = []
        self.other: list[str] = []   # comments, declarations, processing instructions
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes |= {name for name, _ in attrs}
        self.hrefs += [value for name, value in attrs if name == "href"]
        self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag == "br", f"<{tag} /> is not a void element"
        self.tags.append(tag)
        self.attributes |= {name for name, _ in attrs}

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open.pop() == tag, f"</{tag}> closes nothing open"

    def handle_data(self, data: str) -> None:
        self.data.append(data)

    def handle_comment(self, data: str) -> None:
        self.other.append(data)

    handle_decl = handle_pi = unknown_decl = handle_comment


def shown(token: Token) -> str:
    """What a reader sees of a token, with the resolvers used by ``render``."""
    if isinstance(token, Link):
        return token.display
    if isinstance(token, Mention):
        return token.raw if account_href(token.username, token.host) is None else "@" + token.username
    return source(token)


def source(token: Token) -> str:
    """The characters of the text a token stands for (breaks aside)."""
    if isinstance(token, Text):
        return token.value
    if isinstance(token, Link):
        return token.url
    if isinstance(token, Mention):
        return token.raw
    if isinstance(token, Hashtag):
        return "#" + token.name
    return ""


def without_newlines(text: str) -> str:
    return text.replace("\r", "").replace("\n", "")


@settings(max_examples=500)
@given(texts | st.text())
def test_parse_never_raises_and_its_tokens_spell_the_text(text: str) -> None:
    tokens = parse(text)
    assert "".join(source(token) for token in tokens) == without_newlines(text)
    breaks = LineBreak | ParagraphBreak
    for before, after in pairwise(tokens):   # plain text and newlines each come in one token a run
        assert not (isinstance(before, Text) and isinstance(after, Text))
        assert not (isinstance(before, breaks) and isinstance(after, breaks))


@settings(max_examples=500)
@given(texts)
def test_rendered_html_holds_only_our_tags_attributes_and_hrefs(text: str) -> None:
    shape = HtmlShape(render(text))
    assert set(shape.tags) <= ALLOWED_TAGS
    assert shape.attributes <= ALLOWED_ATTRIBUTES
    assert shape.open == [] and shape.other == []
    from_callbacks = {tag_href(name) for name in hashtags(text)} | {
        account_href(t.username, t.host) for t in parse(text) if isinstance(t, Mention)}
    for href in shape.hrefs:
        assert href in from_callbacks or (href in links(text) and re.match(r"https?://", href, re.I))


@settings(max_examples=500)
@given(texts)
def test_rendered_text_is_the_post_with_links_shortened_and_resolved_hosts_dropped(text: str) -> None:
    visible = "".join(HtmlShape(render(text)).data)   # character data, entities already unescaped
    expected = "".join(shown(token) for token in parse(text)) if text.strip() else ""
    assert visible == expected


@settings(max_examples=300)
@given(texts.filter(lambda text: "://" not in text))
def test_without_links_or_resolved_mentions_every_character_but_newlines_is_shown(text: str) -> None:
    rendered = render_html(text, mention_href=lambda user, host: None, tag_href=tag_href)
    assert html.unescape(re.sub(r"<[^>]*>", "", rendered)) == (without_newlines(text) if text.strip() else "")


@settings(max_examples=300)
@given(st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]\.[a-z]{2,6}", fullmatch=True),
       st.lists(st.sampled_from(["a", "b1", "_", "-", "(x)", "%20", "?q=1", "&", "=", "~", "/", "#f"]),
                max_size=6).map("".join),
       st.sampled_from(["", ".", ",", "!", "?", ":", ";", ")", "...", "'", "!)", "\n"]))
def test_a_url_followed_by_punctuation_is_linked_whole(domain: str, path: str, tail: str) -> None:
    url = f"https://{domain}/{path}"
    text = f"(see {url}{tail} ok"
    assert links(text) == [url]
    assert hashtags(text) == []
    display = re.sub(r"^https://(www\.)?", "", url)
    assert parse(url) == [Link(url, display if len(display) <= 30 else display[:30] + "…")]
