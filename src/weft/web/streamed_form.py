"""A multipart form whose files stream to private temporary files, each with its own limit.

Starlette's form reader keeps uploads in spooled files with no limit of their own; an
archive can be a gigabyte. Here each file field the page expects has a byte limit, checked
as the bytes arrive (past it: :class:`UploadTooLarge`, a 413), and is written to a file in
a directory only this process's user can read, which the caller removes when done
(:meth:`StreamedForm.remove`). Text fields stay small and in memory.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Final

from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData
from starlette.requests import Request

from weft.errors import UsageError

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

__all__ = ["StreamedForm", "UploadTooLarge", "read_streamed_form", "size_text"]

_FLUSH_BYTES: Final = 1024 * 1024     # file bytes gathered before one write in a thread
_FORM_SLACK: Final = 1024 * 1024      # room for the text fields and the multipart framing


class UploadTooLarge(UsageError):
    """A file past its limit: the page answers 413 and says what the limit is."""


def size_text(limit: int) -> str:
    """A byte count as people read it: 1 GiB, 16 KiB."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if limit >= size:
            return f"{limit / size:.3g} {unit}"
    return f"{limit} bytes"


@dataclass
class StreamedForm:
    """The text fields of a form, and where the files it carried are (chosen files only)."""

    directory: Path
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    def form_data(self) -> FormData:
        """The text fields as Starlette's FormData, for the CSRF checks."""
        return FormData(list(self.fields.items()))

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass
class _Part:
    name: str = ""
    disposition: bytes = b""
    header_name: bytes = b""
    header_value: bytes = b""
    text: bytearray = field(default_factory=bytearray)
    file: IO[bytes] | None = None
    size: int = 0
    filename: str = ""


class _Reader:
    """python-multipart's callbacks: text into memory, file bytes into a list to write."""

    def __init__(self, form: StreamedForm, limits: Mapping[str, int], field_limit: int, max_fields: int) -> None:
        self.form = form
        self.limits = limits
        self.field_limit = field_limit
        self.max_fields = max_fields
        self.part = _Part()
        self.pending: list[tuple[IO[bytes], bytes]] = []
        self.pending_bytes = 0
        self.handles: list[IO[bytes]] = []
        self.empty: list[str] = []      # file fields sent without a file

    def callbacks(self) -> MultipartCallbacks:
        return {"on_part_begin": self.on_part_begin, "on_part_data": self.on_part_data,
                "on_part_end": self.on_part_end, "on_header_field": self.on_header_field,
                "on_header_value": self.on_header_value, "on_header_end": self.on_header_end,
                "on_headers_finished": self.on_headers_finished}

    def on_part_begin(self) -> None:
        self.part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.part.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.part.header_value += data[start:end]

    def on_header_end(self) -> None:
        if self.part.header_name.lower() == b"content-disposition":
            self.part.disposition = self.part.header_value
        self.part.header_name, self.part.header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.part.disposition)
        if b"name" not in options:
            raise UsageError("the form could not be read: a part has no name")
        self.part.name = options[b"name"].decode("utf-8", "replace")
        if b"filename" not in options:
            if len(self.form.fields) >= self.max_fields:
                raise UsageError("the form could not be read: too many fields")
            return
        if self.part.name not in self.limits or self.part.name in self.form.files:
            raise UsageError(f"the form could not be read: it has no file field {self.part.name[:40]!r}")
        self.part.filename = options[b"filename"].decode("utf-8", "replace")
        path = self.form.directory / self.part.name  # one of our own names, never the sender's
        self.part.file = os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
        self.handles.append(self.part.file)
        self.form.files[self.part.name] = path

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self.part
        part.size += end - start
        if part.file is None:
            if part.size > self.field_limit:
                raise UsageError(f"the form could not be read: the field {part.name[:40]!r} is too long")
            part.text += data[start:end]
            return
        limit = self.limits[part.name]
        if part.size > limit:
            raise UploadTooLarge(f"the file for {part.name.replace('_', ' ')} is larger than this server "
                                 f"takes ({size_text(limit)})")
        self.pending.append((part.file, data[start:end]))
        self.pending_bytes += end - start

    def on_part_end(self) -> None:
        part = self.part
        if part.file is None:
            self.form.fields[part.name] = part.text.decode("utf-8", "replace")
        elif not part.filename and part.size == 0:
            self.empty.append(part.name)   # a browser sends an empty part when no file is chosen


def _write(pending: list[tuple[IO[bytes], bytes]]) -> None:
    for handle, data in pending:
        handle.write(data)


async def read_streamed_form(request: Request, *, limits: Mapping[str, int], field_limit: int = 64 * 1024,
                             max_fields: int = 32) -> StreamedForm:
    """Read a multipart form; files go to a private directory (remove it with ``remove``).

    ``limits`` names the file fields and their sizes in bytes. A declared body larger than
    all of them together is refused before anything is read.
    """
    content_type, params = parse_options_header(request.headers.get("content-type"))
    if content_type != b"multipart/form-data" or not params.get(b"boundary"):
        raise UsageError("the form could not be read: it must be sent as multipart/form-data")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > sum(limits.values()) + _FORM_SLACK:
        biggest = max(limits, key=lambda name: limits[name])
        raise UploadTooLarge(f"the file for {biggest.replace('_', ' ')} is larger than this server takes "
                             f"({size_text(limits[biggest])})")
    form = StreamedForm(Path(tempfile.mkdtemp(prefix="weft-upload-")))   # mode 0700
    reader = _Reader(form, limits, field_limit, max_fields)
    try:
        parser = MultipartParser(params[b"boundary"], reader.callbacks())
        async for chunk in request.stream():
            parser.write(chunk)
            if reader.pending_bytes >= _FLUSH_BYTES:
                await _flush(reader)
        parser.finalize()
        await _flush(reader)
        for handle in reader.handles:
            await asyncio.to_thread(handle.close)
    except FormParserError:
        _discard(form, reader)
        raise UsageError("the form could not be read: it is not valid multipart data") from None
    except BaseException:
        _discard(form, reader)
        raise
    for name in reader.empty:
        path = form.files.pop(name, None)
        if path is not None:
            path.unlink(missing_ok=True)
    return form


async def _flush(reader: _Reader) -> None:
    pending, reader.pending, reader.pending_bytes = reader.pending, [], 0
    if pending:
        await asyncio.to_thread(_write, pending)


def _discard(form: StreamedForm, reader: _Reader) -> None:
    for handle in reader.handles:
        handle.close()
    form.remove()
