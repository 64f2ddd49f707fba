"""Where signing in sends people back to (``?next=``) is always a page of this site, whatever
someone writes into the link."""

from __future__ import annotations

import httpx
from hypothesis import example, given
from hypothesis import strategies as st

from weft.web.pages import local_path

SITE = httpx.URL("https://weft.example/")


@given(st.text())
@example("//evil.example/path")
@example("/\\evil.example")
@example("https://evil.example/")
@example("/\t/evil.example")
@example("/settings?tab=profile")
def test_the_page_after_signing_in_is_on_this_site(next_path: str) -> None:
    target = local_path(next_path)
    assert SITE.join(target).host == "weft.example"
    # Browsers drop tabs and line breaks from a Location and read a backslash as a slash:
    # what is left must still be a path, not //another.site.
    as_browsers_read_it = "".join(c for c in target if c not in "\t\n\r").replace("\\", "/")
    assert as_browsers_read_it.startswith("/") and not as_browsers_read_it.startswith("//")


@given(st.lists(st.sampled_from(["settings", "admin", "a b", "ü", "%2F", "x"]), max_size=4))
def test_paths_of_this_site_are_kept(segments: list[str]) -> None:
    path = "/" + "/".join(segments)
    assert local_path(path) == path
