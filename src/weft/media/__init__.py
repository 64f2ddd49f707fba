"""Media: uploaded images made safe to serve, and the content-addressed store that keeps them.

:func:`process_image` turns an upload into a re-encoded image, a thumbnail and a blurhash
(pure, run it in a thread); :class:`BlobStore` keeps the resulting bytes on disk under
their sha256. Design notes: docs/decisions/0004-media.md.
"""

from weft.media.blobs import BlobStore
from weft.media.decoding import ACCEPTED_FORMATS, MAX_FRAMES
from weft.media.errors import MediaError
from weft.media.images import (
    MAX_DESCRIPTION_CHARS,
    MediaMeta,
    MediaSize,
    ProcessedImage,
    process_image,
    validate_description,
)

__all__ = [
    "ACCEPTED_FORMATS",
    "MAX_DESCRIPTION_CHARS",
    "MAX_FRAMES",
    "BlobStore",
    "MediaError",
    "MediaMeta",
    "MediaSize",
    "ProcessedImage",
    "process_image",
    "validate_description",
]
