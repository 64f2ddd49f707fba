"""Where signing in, or a form of a page, sends people back to (``next``) is always a page of
this site, whatever someone writes into the link."""

from __future__ import annotations

import httpx
from hypothesis import example, given
from hypothesis import strategies as st
from starlette.datastructures import FormData

from weft.web.pages import back, local_path

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


@given(st.text(), st.sampled_from([None, "posted", "deleted"]), st.sampled_from([None, "s-123"]))
@example("//evil.example/#x", "posted", "s-1")
@example("/local?max_id=5#old", None, "s-2")
def test_after_an_action_the_page_goes_back_to_this_site(next_path: str, notice: str | None,
                                                           anchor: str | None) -> None:
    response = back(FormData([("next", next_path)]), "/", notice=notice, anchor=anchor)
    assert response.status_code == 303
    location = response.headers["location"]
    assert SITE.join(location).host == "weft.example"
    as_browsers_read_it = "".join(c for c in location if c not in "\t\n\r").replace("\\", "/")
    assert as_browsers_read_it.startswith("/") and not as_browsers_read_it.startswith("//")
    if anchor is not None:
        assert location.endswith(f"#{anchor}") and location.count("#") == 1
