"""Whatever HTML a remote post carries, what reaches a timeline is Mastodon's allow-list alone."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from weft.federation.activitystreams import parse_object
from weft.federation.remote_objects import remote_post

ALLOWED = {"p", "br", "span", "a", "del", "s", "pre", "code", "em", "strong", "b", "i", "u", "ul", "ol", "li",
           "blockquote"}
CLASSES = {"h-card", "mention", "hashtag", "u-url", "invisible", "ellipsis", "status-link", "unhandled-link"}
REL = "nofollow noopener noreferrer"

TAGS = st.sampled_from(["p", "a", "span", "script", "style", "iframe", "img", "svg", "math", "object", "embed",
                        "form", "b", "br", "li", "blockquote", "template", "noscript", "textarea", "base",
                        "meta", "link", "frame", "video", "SCRIPT", "scr<script>ipt"])
ATTRIBUTES = st.sampled_from([
    'href="javascript:alert(1)"', 'href="JaVaScRiPt:alert(1)"', 'href=" javascript:x"', 'href="jav&#x09;ascript:x"',
    'href="data:text/html,<script>x</script>"', 'href="vbscript:x"', 'href="/relative"', 'href="//evil.example/"',
    'href="https://ok.example/?a=1&b=2"', 'href="http://ok.example/"', 'onclick="x()"', "onerror=alert(1)",
    'onmouseover="x"', 'ONLOAD="x"', 'style="background:url(javascript:x)"', 'src="https://x.example/"',
    'srcdoc="<script>x</script>"', 'target="_blank"', 'rel="me"', 'class="mention evil h-card"', 'class="invisible"',
    'formaction="javascript:x"', 'id="x"', 'xlink:href="javascript:x"',
])
TEXT = st.sampled_from(["hi", "<", ">", "&", '"', "'", "<!--", "-->", "javascript:", "]]>", "&lt;script&gt;",
                        "<![CDATA[", "\x00", "é"])


@st.composite
def html_documents(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        if depth < 3 and draw(st.booleans()):
            tag = draw(TAGS)
            attributes = " ".join(draw(st.lists(ATTRIBUTES, max_size=3)))
            closing = draw(st.sampled_from([f"</{tag}>", "", f"</{tag.upper()}>"]))
            parts.append(f"<{tag} {attributes}>{draw(html_documents(depth + 1))}{closing}")
        else:
            parts.append(draw(TEXT))
    return "".join(parts)


class Markup(HTMLParser):
    """Every element and attribute of a document, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))


def assert_safe(html: str) -> None:
    markup = Markup()
    markup.feed(html)
    markup.close()
    for tag, attrs in markup.elements:
        assert tag in ALLOWED, tag
        names = {name for name, _ in attrs}
        assert not any(name.startswith("on") for name in names)
        assert names <= {"href", "rel", "class"}
        values = dict(attrs)
        if tag == "a":
            assert values.get("rel") == REL
            href = values.get("href")
            assert href is None or href.startswith(("https://", "http://")), href
        assert set((values.get("class") or "").split()) <= CLASSES
    lowered = html.lower()
    assert "<script" not in lowered and "<iframe" not in lowered and "<style" not in lowered


def converted(**props: Any) -> Any:
    body = {"id": "https://m.example/n/1", "attributedTo": "https://m.example/u/a", **props}
    return remote_post(parse_object(orjson.dumps(body)))


@settings(max_examples=300, deadline=None)
@given(html_documents())
def test_note_content_is_sanitized(document: str) -> None:
    assert_safe(converted(type="Note", content=document).html)


@settings(max_examples=150, deadline=None)
@given(html_documents(), html_documents())
def test_converted_articles_are_sanitized(name: str, summary: str) -> None:
    assert_safe(converted(type="Article", name=name, summary=summary, url="https://m.example/a").html)


def test_the_usual_attacks_leave_nothing_behind() -> None:
    post = converted(type="Note", content=(
        '<p onclick="x()">a<script>alert(1)</script><style>p{}</style><iframe src="https://e.example/">f</iframe>'
        '<a href="javascript:alert(1)" target="_blank">j</a><a href="/rel">r</a>'
        '<a href="https://ok.example/" rel="me" class="u-url evil">ok</a></p>'))
    assert post.html == ('<p>a<a rel="nofollow noopener noreferrer">j</a><a rel="nofollow noopener noreferrer">r</a>'
                         '<a href="https://ok.example/" class="u-url" rel="nofollow noopener noreferrer">ok</a></p>')
    assert post.text == "ajrok"
