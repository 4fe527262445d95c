from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from robots.models import OutboundMessage
from seats.models import Seat
from sessions_app.models import Message
from tests.factories import session_make

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def media(settings: SettingsWrapper, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    settings.CS_PUBLIC_URL = "https://cs.example.com"
    return tmp_path


def _url(session_id: int) -> str:
    return f"/api/sessions/{session_id}/attachments/"


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_image_is_stored_and_sent_as_an_image_message(servicer_seat: Seat, media: Path) -> None:
    session = session_make(seat=servicer_seat)
    upload = SimpleUploadedFile("截图 1.png", PNG, content_type="application/octet-stream")
    response = _client_for(servicer_seat.user).post(_url(session.pk), {"file": upload})
    assert response.status_code == 201
    body = response.json()
    assert body["content_type"] == 3
    url = body["payload"]["remoteMediaUrl"]
    assert url.startswith("https://cs.example.com/media/console/")
    assert url.endswith("/%E6%88%AA%E5%9B%BE_1.png"), "the name is kept, made safe and URL-encoded"
    [stored] = [path for path in media.rglob("*") if path.is_file()]
    assert stored.read_bytes() == PNG
    assert stored.name == "截图_1.png"
    sent = OutboundMessage.objects.get(reference__in=Message.objects.filter(session=session).values("pk"))
    assert sent.payload["remoteMediaUrl"] == url
    assert Message.objects.get(session=session).author == Message.Author.SERVICER


def test_another_file_is_sent_as_a_file_message_with_its_name_and_size(servicer_seat: Seat) -> None:
    session = session_make(seat=servicer_seat)
    upload = SimpleUploadedFile("报价单.pdf", b"%PDF-1.4 hello", content_type="image/png")
    body = _client_for(servicer_seat.user).post(_url(session.pk), {"file": upload}).json()
    assert body["content_type"] == 5, "recognised by its bytes, not by the browser's content type"
    assert (body["payload"]["searchableContent"], body["payload"]["content"]) == ("报价单.pdf", "14")


def test_a_file_over_the_limit_is_refused(servicer_seat: Seat, settings: SettingsWrapper) -> None:
    settings.CS_UPLOAD_MAX_MB = 1
    session = session_make(seat=servicer_seat)
    upload = SimpleUploadedFile("big.bin", b"x" * (1024 * 1024 + 1))
    response = _client_for(servicer_seat.user).post(_url(session.pk), {"file": upload})
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"


def test_another_servicer_is_refused_and_nothing_is_stored(
    servicer_seat: Seat, other_servicer_seat: Seat, media: Path
) -> None:
    session = session_make(seat=servicer_seat)
    upload = SimpleUploadedFile("x.png", PNG)
    response = _client_for(other_servicer_seat.user).post(_url(session.pk), {"file": upload})
    assert response.status_code == 403
    assert response.json()["code"] == "not_owner"
    assert not any(path.is_file() for path in media.rglob("*"))


def test_refusals_are_in_the_servicers_language(servicer_seat: Seat, other_servicer_seat: Seat) -> None:
    session = session_make(seat=servicer_seat)
    bob = _client_for(other_servicer_seat.user)
    chinese = bob.post(_url(session.pk), {"file": SimpleUploadedFile("x.png", PNG)})
    english = bob.post(_url(session.pk), {"file": SimpleUploadedFile("x.png", PNG)}, headers={"accept-language": "en"})
    assert chinese.json() == {"error": "这不是您接待的会话。", "code": "not_owner"}
    assert english.json() == {"error": "This session is not yours.", "code": "not_owner"}


def test_anonymous_users_and_requests_without_csrf_are_refused(servicer_seat: Seat) -> None:
    session = session_make(seat=servicer_seat)
    assert Client().post(_url(session.pk), {"file": SimpleUploadedFile("x.png", PNG)}).status_code == 403
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(servicer_seat.user)
    response = strict.post(_url(session.pk), {"file": SimpleUploadedFile("x.png", PNG)})
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_an_image_named_like_a_page_is_stored_as_the_image_it_is(servicer_seat: Seat, media: Path) -> None:
    """A PNG followed by HTML, named photo.html: an image message whose file ends in .png, so the
    web server shows it as an image and never as a page of this origin (docs/deploy/nginx.conf)."""
    session = session_make(seat=servicer_seat)
    upload = SimpleUploadedFile("photo.html", PNG + b"<script>alert(1)</script>", content_type="text/html")
    body = _client_for(servicer_seat.user).post(_url(session.pk), {"file": upload}).json()
    assert body["content_type"] == 3
    assert body["payload"]["remoteMediaUrl"].endswith("/photo.png")
    [stored] = [path for path in media.rglob("*") if path.is_file()]
    assert stored.name == "photo.png"
