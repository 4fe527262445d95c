from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client, RequestFactory
from pytest_django.fixtures import Settings as SettingsWrapper

from robots.wfprotocol import TEXT_MAX_LENGTH
from seats.models import Seat
from sessions_app.console.views import media_file

pytestmark = pytest.mark.django_db


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_console_asks_anonymous_visitors_to_sign_in() -> None:
    response = Client().get("/console/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/console/login/?next=/console/"


def test_a_servicer_signs_in_goes_online_and_gets_the_console_in_chinese(servicer_seat: Seat) -> None:
    client = Client()
    page = client.get("/console/login/")
    assert "客服登录" in page.content.decode()
    response = client.post("/console/login/", {"username": "alice", "password": "alice-password"})
    assert response.headers["Location"] == "/console/"
    assert Seat.objects.get(pk=servicer_seat.pk).status == Seat.Status.ONLINE, "signing in puts the seat online"
    console = client.get("/console/")
    assert console.status_code == 200
    html = console.content.decode()
    assert "客服工作台" in html
    config = json.loads(html.split('id="console-config" type="application/json">')[1].split("</script>")[0])
    assert config["seat"]["id"] == servicer_seat.pk
    assert config["api"]["messages"] == "/api/sessions/0/messages/"


def test_the_console_speaks_english_when_asked(servicer_seat: Seat) -> None:
    html = _client_for(servicer_seat.user).get("/console/", headers={"accept-language": "en"}).content.decode()
    assert "Service console" in html
    assert "Sessions in progress" in html


def _console_json(html: str, element_id: str) -> Any:
    return json.loads(html.split(f'id="{element_id}" type="application/json">')[1].split("</script>")[0])


def _texts(strings: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in strings.items():
        flat.update(_texts(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
    return flat


def test_every_word_the_console_script_shows_is_translated_and_the_text_limit_is_given(servicer_seat: Seat) -> None:
    client = _client_for(servicer_seat.user)
    chinese = client.get("/console/").content.decode()
    english = client.get("/console/", headers={"accept-language": "en"}).content.decode()
    zh, en = _texts(_console_json(chinese, "console-strings")), _texts(_console_json(english, "console-strings"))
    assert zh.keys() == en.keys()
    assert [key for key in zh if zh[key] == en[key]] == [], "every text has its Chinese"
    assert (zh["retry"], zh["copy"]) == ("重试", "复制")
    assert _console_json(chinese, "console-config")["textMaxLength"] == TEXT_MAX_LENGTH
    assert 'id="composer-counter"' in chinese


def test_a_supervisor_without_a_seat_gets_a_clear_page(supervisor: User) -> None:
    response = _client_for(supervisor).get("/console/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "此账号没有坐席" in html
    assert "/admin/" in html


def test_signing_out_sets_the_seat_offline(servicer_seat: Seat) -> None:
    Seat.objects.filter(pk=servicer_seat.pk).update(status=Seat.Status.ONLINE, away_automatic=False)
    client = _client_for(servicer_seat.user)
    response = client.post("/console/logout/")
    assert response.headers["Location"] == "/console/login/"
    assert Seat.objects.get(pk=servicer_seat.pk).status == Seat.Status.OFFLINE
    assert client.get("/console/").status_code == 302
    assert client.get("/console/logout/").status_code == 405, "only by POST, with the CSRF token"


def test_uploaded_files_other_than_images_are_served_as_downloads(tmp_path: Path, settings: SettingsWrapper) -> None:
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "page.html").write_text("<script>alert(1)</script>")
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>")
    for name in ("page.html", "logo.svg"):  # an SVG is a page too: it runs script
        served = media_file(RequestFactory().get(f"/media/{name}"), name)
        assert served["Content-Disposition"] == "attachment"
        assert served["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert served["X-Content-Type-Options"] == "nosniff"
    image = media_file(RequestFactory().get("/media/photo.png"), "photo.png")
    assert not image.get("Content-Disposition", "").startswith("attachment"), "images show inline"
    assert image["X-Content-Type-Options"] == "nosniff"
