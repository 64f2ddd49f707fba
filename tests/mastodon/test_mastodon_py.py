"""Mastodon.py, the Python library of the Mastodon API, used against weft as against Mastodon:
it registers an app, a person authorizes it through the pages, and the library reads and
changes the account, then gives the token back."""

from __future__ import annotations

import httpx
import pytest

from mastodon import Mastodon, MastodonAPIError, MastodonUnauthorizedError

from .conftest import OOB, PASSWORD, authorize, oob_code
from .served import Served

SCOPES = ["read", "write", "follow"]


def registered(served: Served, scopes: list[str] = SCOPES) -> Mastodon:
    client_id, client_secret = Mastodon.create_app("test app", api_base_url=served.url, scopes=scopes,
                                                   redirect_uris=OOB, website="https://app.example")
    # "created": Mastodon.py reads our version and refuses endpoints that Mastodon lacked then,
    # so this also checks that the version we give is one it understands.
    return Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=served.url,
                    version_check_mode="created")


def test_an_app_logs_in_with_a_code_and_works_with_the_account(served: Served) -> None:
    api = registered(served)
    url = api.auth_request_url(redirect_uris=OOB, scopes=SCOPES, state="s1", allow_http=True)
    assert url.startswith(f"{served.url}/oauth/authorize?")
    with httpx.Client(timeout=30) as browser:
        code = oob_code(authorize(browser, url))
    token = api.log_in(code=code, redirect_uri=OOB, scopes=SCOPES, allow_http=True)
    assert token and api.access_token == token

    me = api.account_verify_credentials()
    alice = served.run(served.site.accounts.by_username("alice"))
    assert me.username == "alice" and me.acct == "alice" and me.display_name == "Alice"
    assert me.id == str(alice.identity) and me.url == f"{served.url}/@alice"
    assert me.source.privacy == "public" and me.source.note == "" and me.role.name == "Admin"
    assert me.avatar == f"{served.url}/avatars/original/missing.png"
    assert me.created_at.hour == 0 and me.created_at.tzinfo is not None

    changed = api.account_update_credentials(display_name="Alice L.", note="Down the <rabbit> hole\n#wonder",
                                             fields=[("a", "b"), ("site", "https://alice.example")],
                                             locked=True, default_privacy="unlisted")
    assert changed.display_name == "Alice L." and changed.locked is True
    assert changed.note == ('<p>Down the &lt;rabbit&gt; hole<br />'
                            f'<a href="{served.url}/tags/wonder" class="mention hashtag" rel="tag">'
                            '#<span>wonder</span></a></p>')
    assert changed.source.note == "Down the <rabbit> hole\n#wonder" and changed.source.privacy == "unlisted"
    assert [(f.name, f.value) for f in changed.source.fields] == [("a", "b"), ("site", "https://alice.example")]
    assert changed.fields[1].value.startswith('<a href="https://alice.example" rel="nofollow noopener')
    profile = served.run(served.site.node.profile(alice.did))["profile"]
    assert profile["name"] == "Alice L." and profile["fields"] == [["a", "b"], ["site", "https://alice.example"]]

    looked_up = api.account_lookup("alice")
    assert looked_up.id == me.id and looked_up.display_name == "Alice L." and looked_up.source is None
    assert api.account(me.id).username == "alice"
    assert api.account_lookup(f"@alice@{served.site.host}").id == me.id

    app = api.app_verify_credentials()
    assert app.name == "test app" and app.website == "https://app.example" and "client_secret" not in app

    api.revoke_access_token(allow_http=True)  # the site is plain http on loopback
    api.access_token = token  # keep using the revoked token
    with pytest.raises(MastodonUnauthorizedError):
        api.account_verify_credentials()


def test_log_in_with_username_and_password(served: Served) -> None:
    api = registered(served, ["read"])
    token = api.log_in("alice@example.org", PASSWORD, scopes=["read"], allow_http=True)
    assert token
    assert api.account_verify_credentials().username == "alice"
    with pytest.raises(MastodonAPIError):  # a read token may not write
        api.account_update_credentials(display_name="nope")
    with pytest.raises(Exception, match="Invalid user name, password"):
        registered(served, ["read"]).log_in("alice", "wrong password", scopes=["read"], allow_http=True)


def test_the_instance_reads_as_a_mastodon_server(served: Served) -> None:
    api = registered(served)
    assert api.retrieve_mastodon_version() == "4.3.0"
    info = api.instance()
    assert info.domain == served.site.host and info.title == served.site.title
    assert info.version.startswith("4.3.0 (compatible; weft ")
    assert info.configuration.statuses.max_characters == 5000
    assert info.configuration.media_attachments.supported_mime_types == [
        "image/jpeg", "image/png", "image/webp", "image/gif"]
    assert info.contact.account.username == "alice"  # the first admin
    assert info.registrations.enabled is True and info.registrations.approval_required is False
    assert info.api_versions.mastodon == 2
    v1 = api.instance_v1()
    assert v1.uri == served.site.host and v1.stats.user_count == 2 and v1.contact_account.acct == "alice"
    assert api.instance_peers() == [] and api.custom_emojis() == []
