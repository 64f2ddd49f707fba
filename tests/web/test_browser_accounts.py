"""A person in Chromium: signs up, keeps the recovery key, changes their display name, signs
out and in again. Inputs are found by their labels, which doubles as an accessibility check."""

from __future__ import annotations

from playwright.sync_api import ConsoleMessage, Page, expect

PASSWORD = "a fine password"


def test_sign_up_keep_the_key_edit_the_profile_sign_out_and_in(page: Page, weft_server: str) -> None:
    problems: list[str] = []
    page.on("console", lambda message: _keep_errors(message, problems))

    page.goto(f"{weft_server}/auth/sign_up")
    page.get_by_label("Username").fill("lena")
    page.get_by_label("Display name").fill("Lena")
    page.get_by_label("Email address (optional)").fill("lena@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome: keep your recovery key")
    expect(page.get_by_text("disappears or misbehaves")).to_be_visible()
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download the recovery key").click()
    download = downloading.value
    assert download.suggested_filename == "weft-recovery-lena.key"
    with open(download.path(), encoding="utf-8") as key_file:
        assert "recovery" in key_file.read()
    page.get_by_role("button", name="I have kept it: forget it on the server").click()
    expect(page.get_by_role("status")).to_have_text("This server no longer holds your recovery key.")

    profile = page.get_by_role("region", name="Profile")
    expect(profile.get_by_label("Display name")).to_have_value("Lena")
    profile.get_by_label("Display name").fill("Lena Weft")
    profile.get_by_label("Bio").fill("Weaving since 2027")
    profile.get_by_label("Field 1 label").fill("Loom")
    profile.get_by_label("Field 1 content").fill("Floor, 8 shafts")
    profile.get_by_role("button", name="Save the profile").click()
    expect(page.get_by_role("status")).to_have_text("Your profile is saved.")
    expect(page.get_by_label("Display name")).to_have_value("Lena Weft")
    expect(page.get_by_label("Field 1 content")).to_have_value("Floor, 8 shafts")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.goto(f"{weft_server}/settings")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")  # sent to sign in first

    page.get_by_label("Username or email address").fill("lena")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Settings")  # and back where we were going
    expect(page.get_by_label("Display name")).to_have_value("Lena Weft")
    assert problems == []  # the pages broke no rule of their Content-Security-Policy


def test_the_keyboard_reaches_the_skip_link_first_and_it_leads_to_the_content(
        page: Page, weft_server: str) -> None:
    page.goto(f"{weft_server}/auth/sign_in")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Username or email address")).to_be_focused()
    for landmark in ("banner", "navigation", "main", "contentinfo"):
        expect(page.get_by_role(landmark)).to_have_count(1)


def _keep_errors(message: ConsoleMessage, problems: list[str]) -> None:
    # Chromium asks for /favicon.ico of its own accord; the pages link none.
    if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
        problems.append(f"{message.text} ({message.location['url']})")
