"""Images and files a servicer sends from the console: stored under MEDIA_ROOT, sent by URL."""

from __future__ import annotations

import os
import uuid
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from cs_project.errors import ApplicationError
from robots.wfprotocol import file_payload, image_payload
from seats.models import Seat
from sessions_app.flow.servicer import owned_session_lock, servicer_reply
from sessions_app.models import Message

# Images are recognised by their first bytes, never by the name or the browser's content type.
_IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"\xff\xd8\xff", ".jpg"),
    (b"GIF87a", ".gif"),
    (b"GIF89a", ".gif"),
)
MAX_NAME_LENGTH = 100


def image_extension(head: bytes) -> str | None:
    """The extension of the image these first bytes begin (PNG, JPEG, GIF, WebP), or None."""
    for signature, extension in _IMAGE_SIGNATURES:
        if head.startswith(signature):
            return extension
    return ".webp" if head[:4] == b"RIFF" and head[8:12] == b"WEBP" else None


def attachment_is_image(head: bytes) -> bool:
    return image_extension(head) is not None


def attachment_name(raw: str) -> str:
    """A file name safe on disk and in a URL that still reads like the original (Chinese kept)."""
    base = os.path.basename(raw.replace("\\", "/")).strip()
    try:
        name = get_valid_filename(base)
    except SuspiciousFileOperation:
        name = "file"
    stem, ext = os.path.splitext(name)
    return stem[: MAX_NAME_LENGTH - len(ext[:16])] + ext[:16]


def media_url(stored_name: str) -> str:
    """The absolute URL at which the customer's IM client fetches a stored file."""
    return f"{settings.CS_PUBLIC_URL}/{settings.MEDIA_URL.strip('/')}/{quote(stored_name)}"


@transaction.atomic
def attachment_send(*, session_id: int, seat: Seat, upload: UploadedFile[bytes]) -> Message:
    """Store an upload and send it to the customer as an image or a file message.

    The session is checked before anything is stored, so nobody but its servicer can fill the disk.
    """
    owned_session_lock(session_id=session_id, seat=seat)
    size = upload.size or 0
    if size == 0:
        raise ApplicationError(_("The file is empty."), code="empty_file")
    if size > settings.CS_UPLOAD_MAX_MB * 1024 * 1024:
        raise ApplicationError(
            _("The file is larger than %(mb)s MB.") % {"mb": settings.CS_UPLOAD_MAX_MB},
            code="file_too_large",
            status=413,
        )
    name = attachment_name(upload.name or "file")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    extension = image_extension(head)
    # An image is stored under the extension of what it is, so the web server (docs/deploy/nginx.conf)
    # serves it as that image; anything else is served as a download, whatever its name says.
    stored_name = f"{os.path.splitext(name)[0] or 'image'}{extension}" if extension else name
    stored = default_storage.save(f"console/{timezone.now():%Y/%m}/{uuid.uuid4().hex}/{stored_name}", upload)
    url = media_url(stored)
    payload = image_payload(url) if extension else file_payload(url, name=name, size=size)
    try:
        return servicer_reply(session_id=session_id, seat=seat, payload=payload)
    except Exception:
        default_storage.delete(stored)
        raise
