"""Fixtures of the client-API tests: a served site with one account, and a person going
through the OAuth pages with httpx as a browser would (reading the real forms).

``served`` is a :class:`tests.mastodon.served.Served` whose site hosts ``alice`` (password
``PASSWORD``, an admin) and ``bob``. ``authorize(client, url, ...)`` logs in on the
authorization page if it asks and answers the consent page; ``oob_code(page)`` reads the code that
an out-of-band authorization shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from urllib.parse import urljoin

import httpx
import pytest

from weft.config import NodeConfig

from .served import Form, Served, serve

PASSWORD = "correct horse battery"
OOB = "urn:ietf:wg:oauth:2.0:oob"
_CODE = re.compile(r'<output class="code" id="code"[^>]*>([^<]+)</output>')


@pytest.fixture
def served(make_config: Callable[[str], NodeConfig]) -> Iterator[Served]:
    with serve(make_config("n")) as running:
        running.run(running.site.accounts.sign_up("alice", PASSWORD, email="alice@example.org",
                                                  display_name="Alice", admin=True))
        running.run(running.site.accounts.sign_up("bob", PASSWORD))
        yield running


def log_in_on_page(client: httpx.Client, authorize_url: str, username: str = "alice",
                   password: str = PASSWORD) -> httpx.Response:
    """Open the authorization page, which asks to log in, and log in: the answer sends the
    browser back to the authorization page."""
    page = client.get(authorize_url)
    assert page.status_code == 200, page.text
    form = Form(page.text)
    assert "password" in form.fields and "csrf" in form.fields
    return client.post(urljoin(authorize_url, form.action),
                       data=form.submit(username=username, password=password, action="login"))


def authorize(client: httpx.Client, authorize_url: str, *, decision: str = "authorize",
              username: str = "alice") -> httpx.Response:
    """Open the authorization page, log in if it asks, and answer the consent page with
    ``decision`` (authorize or deny)."""
    consent = client.get(authorize_url)
    if "password" in Form(consent.text).fields:
        signed_in = log_in_on_page(client, authorize_url, username)
        assert signed_in.status_code == 303, signed_in.text
        consent = client.get(urljoin(authorize_url, signed_in.headers["location"]))
    assert consent.status_code == 200, consent.text
    form = Form(consent.text)
    return client.post(urljoin(authorize_url, form.action), data=form.submit(action=decision))


def oob_code(page: httpx.Response) -> str:
    """The code an out-of-band authorization shows for the person to copy."""
    assert page.status_code == 200, page.text
    found = _CODE.search(page.text)
    assert found is not None, page.text
    return found.group(1)
