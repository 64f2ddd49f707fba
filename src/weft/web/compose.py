"""Writing a post from a page: the compose form, its images, and what happens when it fails.

The form is multipart. Images are uploaded through the social service, waited for (they
are processed in the background), then attached; if the post cannot be published after
that, the form comes back with the error, the text as typed, and the images already
uploaded kept (with their alt text), so that nothing is lost.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Final

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from weft.errors import NotFound, UsageError
from weft.media import MAX_DESCRIPTION_CHARS, MediaError
from weft.ratelimit import RateLimited
from weft.site import Site
from weft.social import MAX_CHARACTERS, MAX_MEDIA_ATTACHMENTS, MAX_SUMMARY_CHARS, Draft
from weft.social.uploads import MAX_UPLOAD_BYTES
from weft.web.display import VISIBILITY_LABELS, StatusView, status_view
from weft.web.pages import back, field, local_path
from weft.web.rendering import render, status_for
from weft.web.visitors import SignInNeeded, Visitor, check_csrf, visitor

__all__ = ["EXPIRIES", "ComposeForm", "compose_form_page", "compose_page", "publish"]

# (seconds as the form sends them, label); "" is never.
EXPIRIES: Final = (("", "Never"), ("3600", "After 1 hour"), ("86400", "After 1 day"),
                   ("604800", "After 7 days"))
PROCESSING_WAIT_S: Final = 30.0
# Text fields are small; four images at most, each at most MAX_UPLOAD_BYTES.
_MAX_BODY: Final = MAX_MEDIA_ATTACHMENTS * MAX_UPLOAD_BYTES + 1024 * 1024
_WIDEST_FIRST: Final = ("public", "unlisted", "followers", "direct")


@dataclass(frozen=True)
class KeptImage:
    id: int
    src: str
    alt: str


@dataclass
class ComposeForm:
    """What the compose form shows: blank, prefilled for a reply, or as it was sent."""

    text: str = ""
    summary: str = ""
    visibility: str = "public"
    expiry: str = ""
    reply_to: int | None = None
    next: str | None = None
    kept: list[KeptImage] = dataclasses.field(default_factory=list)
    alts: list[str] = dataclasses.field(default_factory=lambda: [""] * MAX_MEDIA_ATTACHMENTS)
    images_open: bool = False
    limit: int = MAX_CHARACTERS
    summary_limit: int = MAX_SUMMARY_CHARS
    alt_limit: int = MAX_DESCRIPTION_CHARS
    image_limit: int = MAX_MEDIA_ATTACHMENTS
    visibilities: tuple[tuple[str, str], ...] = tuple(VISIBILITY_LABELS.items())
    expiries: tuple[tuple[str, str], ...] = EXPIRIES

    @classmethod
    def blank(cls, me: Visitor, *, reply_to: StatusView | None = None) -> ComposeForm:
        """A new post in the account's default visibility; a reply mentions its author and is
        seen by no more people than the post it answers."""
        visibility = str(me.account.settings.get("default_visibility") or "public")
        if visibility not in VISIBILITY_LABELS:
            visibility = "public"
        if reply_to is None:
            return cls(visibility=visibility)
        if _WIDEST_FIRST.index(reply_to.visibility) > _WIDEST_FIRST.index(visibility):
            visibility = reply_to.visibility
        mention = "" if reply_to.mine else f"@{reply_to.author.handle} "
        return cls(text=mention, visibility=visibility, reply_to=reply_to.id,
                   summary=reply_to.summary or "")


async def compose_page(request: Request, site: Site, me: Visitor, form: ComposeForm, *,
                       error: str | None = None, status: int = 200) -> Response:
    """The compose form on a page of its own (where a failed post comes back to)."""
    return render(request, "compose.html", title="Reply" if form.reply_to else "New post", status=status,
                  me=me, form=form, error=error)


async def compose_form_page(request: Request, site: Site) -> Response:
    """``GET /compose`` (``?reply_to=`` a status id): a form without the rest of a timeline."""
    me = await visitor(request, site)
    if me is None:
        raise SignInNeeded(request.url.path)
    raw = request.query_params.get("reply_to", "")
    reply_to = None
    if raw:
        if not raw.isdigit() or len(raw) > 20:
            raise NotFound("no such post")
        status = await site.social.statuses.status(me.account, int(raw))
        reply_to = status_view(status, me.account.identity, site.base_url)
    return await compose_page(request, site, me, ComposeForm.blank(me, reply_to=reply_to))


async def _read_multipart(request: Request) -> FormData:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > _MAX_BODY:
        raise UsageError(f"the form is too large: at most {MAX_MEDIA_ATTACHMENTS} images of "
                         f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB each")
    try:
        return await request.form(max_files=MAX_MEDIA_ATTACHMENTS, max_fields=64, max_part_size=64 * 1024)
    except HTTPException as exc:  # Starlette's answer to a malformed or oversized multipart body
        raise UsageError(f"the form could not be read: {exc.detail}") from None


def _typed(form: FormData) -> ComposeForm:
    """The form as sent (less the image files), to show again if it cannot be published."""
    reply = field(form, "reply_to", limit=20)
    visibility = field(form, "visibility", limit=20)
    expiry = field(form, "expires_in", limit=20)
    return ComposeForm(
        text=field(form, "text", limit=MAX_CHARACTERS * 4, label="the post"),
        summary=field(form, "summary", limit=MAX_SUMMARY_CHARS * 4, label="the content warning"),
        visibility=visibility,              # "" (not sent): the account's default
        expiry=expiry if expiry in dict(EXPIRIES) else "",
        reply_to=int(reply) if reply.isdigit() and len(reply) <= 19 else None,
        next=local_path(field(form, "next", limit=2000), "/"),
        alts=[field(form, f"alt_{index}", limit=MAX_DESCRIPTION_CHARS * 4, label=f"the alt text of image {index}")
              for index in range(1, MAX_MEDIA_ATTACHMENTS + 1)])


def _check_choices(form: FormData) -> None:
    """Refuse what the form's own fields cannot send: a post must never go out more widely,
    or live longer, than its author chose because a value was not understood."""
    if field(form, "visibility", limit=20) not in ("", *VISIBILITY_LABELS):
        raise UsageError(f"choose who can see the post: {', '.join(VISIBILITY_LABELS.values())}")
    if field(form, "expires_in", limit=20) not in dict(EXPIRIES):
        raise UsageError("choose when the post disappears: " + ", ".join(label for _, label in EXPIRIES).lower())
    reply = field(form, "reply_to", limit=20)
    if reply and not (reply.isdigit() and len(reply) <= 19):
        raise UsageError("reply_to must be a status id")
    if any(not isinstance(v, str) or not v.isdigit() or len(v) > 18 for v in form.getlist("kept")):
        raise UsageError("kept must be upload ids")


def _files(form: FormData) -> list[tuple[int, UploadFile]]:
    chosen = []
    for index in range(1, MAX_MEDIA_ATTACHMENTS + 1):
        value = form.get(f"image_{index}")
        if isinstance(value, UploadFile) and (value.filename or value.size):
            chosen.append((index, value))
    return chosen


async def _kept(site: Site, me: Visitor, form: FormData) -> list[KeptImage]:
    """The uploads the form carries back from an earlier try (only the visitor's own)."""
    dropped = {value for value in form.getlist("drop") if isinstance(value, str)}
    kept = []
    for value in dict.fromkeys(form.getlist("kept")):
        if not isinstance(value, str) or value in dropped:  # (ids checked by _check_choices)
            continue
        upload = await site.social.uploads.get(me.account, int(value))  # NotFound if not theirs
        alt = field(form, f"kept_alt_{upload.id}", limit=MAX_DESCRIPTION_CHARS * 4, label="the alt text")
        if alt.strip() != (upload.description or ""):
            upload = await site.social.uploads.describe(me.account, upload.id, alt)
        if upload.state == "ready" and upload.blob is not None:
            kept.append(KeptImage(upload.id, f"/media/{upload.thumb or upload.blob}", upload.description or ""))
    return kept


async def _upload_new(site: Site, me: Visitor, typed: ComposeForm, files: list[tuple[int, UploadFile]]) -> None:
    """Upload the chosen files and wait for each; the ready ones join ``typed.kept`` at once,
    so that a later error keeps them."""
    for index, file in files:
        data = await file.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise MediaError(f"image {index} is too large: at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
        alt = typed.alts[index - 1]
        try:
            upload = await site.social.uploads.upload(me.account, data, description=alt or None)
        except MediaError as exc:
            raise MediaError(f"image {index}: {exc}") from None
        upload = await site.social.uploads.wait(me.account, upload.id, seconds=PROCESSING_WAIT_S)
        if upload.state == "failed":
            raise MediaError(f"image {index} could not be used: {upload.error}")
        if upload.state != "ready" or upload.blob is None:
            raise UsageError(f"image {index} is still being processed; publish again in a moment")
        typed.kept.append(KeptImage(upload.id, f"/media/{upload.thumb or upload.blob}", upload.description or ""))
        typed.alts[index - 1] = ""


async def publish(request: Request, site: Site) -> Response:
    """``POST /statuses``: publish, then back to the page the form was on."""
    try:
        form = await _read_multipart(request)
    except UsageError as exc:
        me = await visitor(request, site)
        if me is None:
            raise SignInNeeded("/") from None
        return await compose_page(request, site, me, ComposeForm.blank(me), error=str(exc),
                                  status=status_for(exc))
    try:
        return await _publish(request, site, form)
    finally:
        await form.close()  # the image files spooled to disk


async def _publish(request: Request, site: Site, form: FormData) -> Response:
    me = await visitor(request, site)
    if me is None:
        raise SignInNeeded(local_path(field(form, "next", limit=2000), "/"))
    check_csrf(form, me.csrf)
    typed = _typed(form)
    files = _files(form)
    try:
        _check_choices(form)
        typed.kept = await _kept(site, me, form)
        # Other mistakes are found after the images are uploaded, so that the form can
        # keep them: a browser cannot put a chosen file back into a file field.
        if len(typed.kept) + len(files) > MAX_MEDIA_ATTACHMENTS:
            raise UsageError(f"a post has at most {MAX_MEDIA_ATTACHMENTS} images")
        await _upload_new(site, me, typed, files)
        await site.social.posting.compose(me.account, Draft(
            text=typed.text, visibility=typed.visibility or None, summary=typed.summary or None,
            reply_to=typed.reply_to, media_ids=tuple(image.id for image in typed.kept),
            expires_in_ms=int(typed.expiry) * 1000 if typed.expiry else None))
    except (UsageError, NotFound, RateLimited) as exc:
        typed.images_open = bool(files) or any(typed.alts)
        if typed.visibility not in VISIBILITY_LABELS:  # shown as the account's default, not the first option
            typed.visibility = ComposeForm.blank(me).visibility
        return await compose_page(request, site, me, typed, error=str(exc), status=status_for(exc))
    return back(form, "/", notice="posted")
