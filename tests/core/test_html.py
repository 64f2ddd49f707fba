"""Remote HTML: only Mastodon's allow-list survives, whatever is sent."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from weft.core.html import ALLOWED_TAGS, _plain_markup_text, _Text, html_to_text, sanitize_html

_TAGS = st.sampled_from(["p", "a", "span", "script", "style", "img", "iframe", "svg", "b", "object", "form",
                         "math", "br", "ul", "li", "div", "template", "noscript", "textarea", "title"])
_ATTRS = st.sampled_from(['href="javascript:alert(1)"', 'href="https://ok.example/"', 'onclick="x()"',
                          'onerror=alert(1)', 'class="mention evil"', 'style="color:red"', 'src="x"',
                          'href="data:text/html,hi"', 'href=" javascript:x"', 'class="h-card"', "formaction=x"])
_TEXT = st.sampled_from(["hi", "<", ">", "&", '"', "'", "<!--", "-->", "javascript:", "]]>", "&lt;script&gt;"])


@st.composite
def documents(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        if depth < 3 and draw(st.booleans()):
            tag = draw(_TAGS)
            attrs = " ".join(draw(st.lists(_ATTRS, max_size=3)))
            parts.append(f"<{tag} {attrs}>{draw(documents(depth + 1))}</{tag}>")
        else:
            parts.append(draw(_TEXT))
    return "".join(parts)


@settings(max_examples=300)
@given(documents())
def test_nothing_outside_the_allow_list_survives(document: str) -> None:
    clean = sanitize_html(document)
    for tag in re.findall(r"<\s*/?\s*([a-zA-Z0-9]+)", clean):
        assert tag.lower() in ALLOWED_TAGS
    markup = " ".join(re.findall(r"<[^>]*>", clean)).lower()   # text may say anything; tags may not
    assert "javascript:" not in markup and "data:" not in markup
    assert not re.search(r"\son\w+\s*=", markup)
    assert "style=" not in markup and "src=" not in markup
    for classes in re.findall(r'class="([^"]*)"', " ".join(re.findall(r"<[^>]*>", clean))):
        assert set(classes.split()) <= {"h-card", "u-url", "mention", "hashtag", "invisible", "ellipsis",
                                        "status-link", "unhandled-link"}
    assert sanitize_html(clean) == clean


def test_links_keep_web_schemes_and_get_rel() -> None:
    clean = sanitize_html('<a href="https://a.example/x" target="_blank" rel="me">x</a><a href="javascript:y">y</a>')
    assert clean == ('<a href="https://a.example/x" rel="nofollow noopener noreferrer">x</a>'
                     '<a rel="nofollow noopener noreferrer">y</a>')


def test_script_and_style_go_with_their_content() -> None:
    assert sanitize_html("<p>a<script>alert(1)</script><style>p{}</style>b</p>") == "<p>ab</p>"


def test_text_of_html() -> None:
    assert html_to_text('<p>Hi <a href="x">@bob</a></p><p>one<br>two &amp; three</p><script>x</script>') == \
        "Hi @bob\n\none\ntwo & three"
    assert html_to_text("") == ""


@given(st.text(max_size=200))
def test_text_of_anything(document: str) -> None:
    assert isinstance(html_to_text(document), str)


def parsed_text(html: str) -> str:
    """html_to_text as HTMLParser alone reads it: what the quick reading must equal."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts).strip()


_MARKUP = st.sampled_from([
    "<p>", "</p>", "<br>", "<br/>", "<br />", "<li>", "</li>", "<ul>", "<blockquote>", "<pre>", "<P>", "</P >",
    '<a href="https://a.example/x?y=1&amp;z">', "</a>", '<span class="h-card">', "</span>", '<a href="a>b">',
    '<a href="a<b">', "</p class=\"a>b\">", '<a href=x>', "<script>", "</script>", "<style>", "<title>",
    "<!-- c -->", "<!doctype html>", "<?x?>", "<", ">", "< p>", "<3", "<p\n>", '<ol start="2" reversed="">',
])
_WORDS = st.sampled_from(["hi", " ", "\n", "\n\n", "&amp;", "&lt;", "&gt;", "&#39;", "&nbsp;", "&", "&am", "&#",
                          "&#x41", "a & b", "é", "\r\n", "x" * 40, "&quot;"])


@settings(max_examples=1000)
@given(st.lists(_MARKUP | _WORDS, max_size=14).map("".join))
def test_the_quick_text_reading_is_htmlparsers(html: str) -> None:
    quick = _plain_markup_text(html)
    assert quick is None or quick == parsed_text(html)
    assert html_to_text(html) == parsed_text(html)


@settings(max_examples=300)
@given(documents())
def test_sanitized_html_is_read_quickly(document: str) -> None:
    clean = sanitize_html(document)
    assert _plain_markup_text(clean) == parsed_text(clean)


def test_a_mastodon_post_is_read_quickly() -> None:
    clean = sanitize_html('<p><span class="h-card"><a href="https://b.example/@bob" class="u-url mention">'
                          '@<span>bob</span></a></span> hi &amp; bye</p><p>two<br>lines <a href="https://'
                          'a.example/tags/x" class="mention hashtag" rel="tag">#<span>x</span></a></p>')
    assert _plain_markup_text(clean) == "@bob hi & bye\n\ntwo\nlines #x"
