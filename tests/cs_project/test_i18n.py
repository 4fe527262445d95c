from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from sessions_app.models import LeftMessage
from sessions_app.supervision.settings_form import ServiceSettingsForm
from tests.factories import customer_make

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


def test_every_editable_setting_has_chinese_help() -> None:
    with translation.override("zh-hans"):
        form = ServiceSettingsForm()
        missing = [name for name, field in form.fields.items() if not str(field.help_text).strip()]
        assert missing == []
        assert "可用占位符：{name}" in str(form.fields["assigned_text"].help_text)
        assert "留空则发送中文文本" in str(form.fields["queued_text_en"].help_text)


def test_the_admin_group_picker_speaks_chinese(supervisor: User) -> None:
    """Django 5.2's own zh_Hans djangojs lacks the picker's newer strings; ours fills them in."""
    client = Client()
    client.force_login(supervisor)
    catalogue = client.get("/admin/jsi18n/", headers={"accept-language": "zh-hans"}).content.decode()
    picker = 'Choose %s by selecting them and then select the \\"Choose\\" arrow button.'
    assert picker in catalogue
    assert picker + '": "\\u9009\\u62e9 %s' in catalogue, "translated: 选择 %s"


def test_list_headers_are_chinese(supervisor: User) -> None:
    LeftMessage.objects.create(customer=customer_make("c-1"), text="请回电")
    client = Client()
    client.force_login(supervisor)
    page = client.get("/admin/sessions_app/leftmessage/", headers={"accept-language": "zh-hans"}).content.decode()
    assert "处理人" in page
    assert "Handled by" not in page
    assert "Customer" not in page
