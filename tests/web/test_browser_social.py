"""People in Chromium using the social pages of a real ``weft serve``, found by labels and
roles as a person (or a screen reader) finds them: sign up, post a picture with alt text,
reply, like (with the keyboard), edit, search, delete, sign out; and follow someone to see
their posts at home."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

PASSWORD = "a fine password"


def watch(page: Page) -> list[str]:
    """Console errors (a broken rule of the Content-Security-Policy is one) and script errors."""
    problems: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        # Chromium asks for /favicon.ico of its own accord; the pages link none.
        if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
            problems.append(f"{message.text} ({message.location['url']})")

    page.on("console", keep)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def sign_up(page: Page, server: str, username: str, display_name: str) -> None:
    page.goto(f"{server}/auth/sign_up")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Display name").fill(display_name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome: keep your recovery key")
    page.get_by_role("link", name="Home").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Home")


def picture(path: Path) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (170, 40, 40)).save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return path


def test_post_a_picture_reply_like_edit_search_delete_and_sign_out(
        page: Page, weft_server: str, tmp_path: Path) -> None:
    problems = watch(page)
    sign_up(page, weft_server, "lena", "Lena")

    page.get_by_label("Your post").fill("My first loom #weaving")
    expect(page.get_by_text("4978 of 5000 characters left")).to_be_visible()  # counted as she types
    page.get_by_text("Add images").click()
    page.get_by_label("Image 1", exact=True).set_input_files(picture(tmp_path / "loom.jpg"))
    page.get_by_label("Alt text for image 1").fill("A floor loom with a red warp")
    page.get_by_label("Who can see it").select_option(label="Public")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_have_text("Your post is published.")

    post = page.get_by_role("article").filter(has_text="My first loom")
    image = post.get_by_role("img", name="A floor loom with a red warp")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")  # the thumbnail loaded

    # Like it with the keyboard: the button is reached and pressed without a mouse.
    post.get_by_role("button", name="Like").focus()
    page.keyboard.press("Enter")
    liked = page.get_by_role("article").filter(has_text="My first loom").get_by_role("button", name="Like")
    expect(liked).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("article").filter(has_text="My first loom")).to_contain_text("1 like")

    page.get_by_role("article").filter(has_text="My first loom").get_by_role("link", name="Reply").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Post by Lena")
    page.get_by_label("Your reply").fill("The warp took all afternoon.")
    page.get_by_role("button", name="Publish the reply").click()
    expect(page.get_by_role("status")).to_have_text("Your post is published.")
    replies = page.get_by_role("region", name="Replies")
    expect(replies.get_by_role("article")).to_contain_text("The warp took all afternoon.")

    page.get_by_role("article").filter(has_text="My first loom").get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit the post")
    page.get_by_label("Text", exact=True).fill("My first loom, warped #weaving")
    page.get_by_role("button", name="Save the changes").click()
    expect(page.get_by_role("status")).to_have_text("Your post is changed.")
    expect(page.get_by_role("article").filter(has_text="My first loom, warped")).to_be_visible()
    page.get_by_text("Edit history (2 versions)").click()
    expect(page.get_by_text("My first loom #weaving")).to_be_visible()

    page.get_by_role("link", name="Search").click()
    page.get_by_label("Search for people, hashtags and posts").fill("warped")
    page.keyboard.press("Enter")
    results = page.get_by_role("region", name="Posts")
    expect(results.get_by_role("article")).to_contain_text("My first loom, warped")

    results.get_by_role("article").get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete the post?")
    page.get_by_role("button", name="Delete the post").click()
    expect(page.get_by_role("status")).to_have_text("The post is deleted.")
    expect(page.get_by_text("My first loom")).to_have_count(0)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    assert problems == []


def test_following_someone_brings_their_posts_home(browser: Browser, page: Page, weft_server: str) -> None:
    problems = watch(page)
    other = browser.new_context()
    try:
        omar = other.new_page()
        sign_up(omar, weft_server, "omar", "Omar")
        omar.get_by_label("Your post").fill("Tablet weaving, day one")
        omar.get_by_label("Who can see it").select_option(label="Followers only")
        omar.get_by_role("button", name="Publish").click()
        expect(omar.get_by_role("status")).to_have_text("Your post is published.")
    finally:
        other.close()

    sign_up(page, weft_server, "lena", "Lena")
    expect(page.get_by_text("Tablet weaving")).to_have_count(0)
    page.goto(f"{weft_server}/@omar")
    expect(page.get_by_role("heading", level=1)).to_have_text("Omar")
    expect(page.get_by_text("Tablet weaving")).to_have_count(0)  # for his followers only
    page.get_by_role("button", name="Follow").click()
    expect(page.get_by_role("button", name="Unfollow")).to_be_visible()
    page.get_by_role("link", name="Home").click()
    expect(page.get_by_role("article").filter(has_text="Tablet weaving, day one")).to_contain_text("Omar")
    assert problems == []
