from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import RequestFactory
from pytest_django.fixtures import Settings as SettingsWrapper

from seats.models import Seat, SkillGroup
from sessions_app.bot.faq_file import demo_synonyms, faq_file_read
from sessions_app.models import FaqEntry, ServiceSettings

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _development(settings: SettingsWrapper) -> None:
    settings.DEBUG = True  # as make demo runs it; pytest-django turns DEBUG off


def test_it_refuses_to_run_without_debug(settings: SettingsWrapper) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG is off"):
        call_command("seed_demo")
    assert not User.objects.exists()


def test_seeding_twice_gives_the_documented_demo_logins_and_seats() -> None:
    call_command("seed_demo")
    call_command("seed_demo")
    request = RequestFactory().post("/admin/login/")
    for login in ("supervisor", "servicer1", "servicer2"):
        assert authenticate(request, username=login, password=login) is not None
    seats = Seat.objects.order_by("user__username")
    assert [(s.user.username, s.capacity, s.im_user_id) for s in seats] == [
        ("servicer1", 3, "servicer1"),
        ("servicer2", 3, "servicer2"),
    ]
    supervisor = Seat.objects.model._meta.apps.get_model("auth", "User").objects.get(username="supervisor")
    assert supervisor.is_staff
    assert supervisor.groups.filter(name="supervisors").exists()
    assert FaqEntry.objects.count() == len(faq_file_read()) == 32
    english = FaqEntry.objects.get(question="怎么开发票？")
    assert english.question_en
    assert english.answer_en
    assert ServiceSettings.load().faq_synonyms == demo_synonyms(), "the demo shop's synonyms"
    assert ServiceSettings.load().skill_group_menu_enabled, "the demo offers its skill groups"
    groups = {group.name: [seat.user.username for seat in group.seats.all()] for group in SkillGroup.objects.all()}
    assert groups == {"售前咨询": ["servicer1"], "售后服务": ["servicer2"]}, "each demo servicer serves one group"


def test_seeding_again_keeps_what_the_demo_changed_since() -> None:
    call_command("seed_demo")
    entry = FaqEntry.objects.get(question="什么时候发货？")
    entry.answer = "当天发货。"
    entry.save()
    servicer = Seat.objects.get(user__username="servicer1")
    servicer.user.set_password("a-new-password")
    servicer.user.save()
    Seat.objects.filter(pk=servicer.pk).update(capacity=5)
    config = ServiceSettings.load()
    config.faq_synonyms = "退款 退钱"
    config.save()

    call_command("seed_demo")

    assert FaqEntry.objects.get(question="什么时候发货？").answer == "当天发货。"
    assert ServiceSettings.load().faq_synonyms == "退款 退钱", "synonyms the demo edited are kept"
    assert Seat.objects.get(pk=servicer.pk).capacity == 5
    request = RequestFactory().post("/admin/login/")
    assert authenticate(request, username="servicer1", password="a-new-password") is not None
