"""Remote HTML: only Mastodon's allow-list survives, whatever is sent."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from weft.core.html import ALLOWED_TAGS, html_to_text, sanitize_html

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
