"""People for the tests of the social pages: accounts made by the site, each with a browser-like
client signed in through the sign-in form, and small images to post.

    async with serving(make_config("n"), environ=ENV) as running, people(running) as folks:
        alice = await folks.join("alice")
        page = await alice.get("/")
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from PIL import Image

from weft.accounts import Account
from weft.social import Draft, Status

from .site_server import RunningSite, csrf_of, sign_in

ENV = {"WEFT_RATE_LIMITS": "off"}
PASSWORD = "a fine password"
STATUS_LINK = re.compile(r'href="/@(\w+)/(\d+)"')


def jpeg(width: int = 64, height: int = 48, colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "JPEG")
    return out.getvalue()


@dataclass
class Member:
    """A signed-in person: their account and their client (cookies kept, redirects not followed)."""

    account: Account
    client: httpx.AsyncClient
    running: RunningSite

    @property
    def name(self) -> str:
        return self.account.username

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, **kwargs)

    async def csrf(self, path: str = "/settings") -> str:
        """The session's CSRF token, as any page with a form carries it."""
        response = await self.client.get(path)
        assert response.status_code == 200, response.text
        return csrf_of(response.text)

    async def post_form(self, path: str, data: dict[str, str] | None = None, *,
                        csrf: str | None = None) -> httpx.Response:
        """Send a form of a page, with this session's CSRF token unless ``csrf`` is given."""
        token = csrf if csrf is not None else await self.csrf()
        return await self.client.post(path, data={"csrf": token, **(data or {})})

    async def publish(self, text: str, *, images: tuple[tuple[bytes, str], ...] = (), **fields: str) -> httpx.Response:
        """Send the compose form of the home page (multipart), as a browser does."""
        data = {"csrf": await self.csrf("/"), "text": text, "next": "/", **fields}
        files = [(f"image_{index}", (f"picture{index}.jpg", content, "image/jpeg"))
                 for index, (content, _) in enumerate(images, start=1)]
        for index, (_, alt) in enumerate(images, start=1):
            data[f"alt_{index}"] = alt
        if not files:  # still multipart, as the form always is
            files = [("image_1", ("", b"", "application/octet-stream"))]
        return await self.client.post("/statuses", data=data, files=files)

    async def compose(self, text: str, **draft: Any) -> Status:
        """Post through the social service (quicker than the form, for setting a scene)."""
        return await self.running.site.social.posting.compose(self.account, Draft(text, **draft))


@dataclass
class People:
    running: RunningSite
    stack: contextlib.AsyncExitStack
    members: dict[str, Member] = field(default_factory=dict)

    async def join(self, username: str, *, display_name: str | None = None) -> Member:
        """An account made by the site, signed in through the form."""
        accounts = self.running.site.accounts
        account = await accounts.sign_up(username, PASSWORD, by_admin=True, display_name=display_name)
        client = await self.stack.enter_async_context(self.running.client())
        signed = await sign_in(client, username, PASSWORD)
        assert signed.status_code == 303, signed.text
        member = Member(account, client, self.running)
        self.members[username] = member
        return member

    async def stranger(self) -> httpx.AsyncClient:
        """A visitor who is not signed in."""
        return await self.stack.enter_async_context(self.running.client())


@contextlib.asynccontextmanager
async def people(running: RunningSite) -> AsyncIterator[People]:
    async with contextlib.AsyncExitStack() as stack:
        yield People(running, stack)
