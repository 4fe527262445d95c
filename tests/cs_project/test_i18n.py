from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

pytestmark = pytest.mark.django_db


def test_the_project_catalogue_is_compiled_and_chinese() -> None:
    with translation.override("zh-hans"):
        assert gettext("Seats") == "坐席"
    with translation.override("en"):
        assert gettext("Seats") == "Seats"


def test_pages_speak_chinese_by_default(client: Client) -> None:
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "zh-hans"
    assert "登录" in response.content.decode()


def test_the_browser_language_is_honoured(client: Client) -> None:
    response = client.get("/admin/login/", headers={"accept-language": "en"})
    assert response.headers["Content-Language"] == "en"
    assert "Log in" in response.content.decode()


def test_the_language_switch_is_honoured(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/admin/login/"})
    assert response.status_code == 302
    page = client.get("/admin/login/")
    assert page.headers["Content-Language"] == "en"
    assert "Log in" in page.content.decode()
