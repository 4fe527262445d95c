from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from seats.models import Seat
from sessions_app.models import FaqEntry

pytestmark = pytest.mark.django_db


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
    assert FaqEntry.objects.count() == 4
