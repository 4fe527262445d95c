"""Every admin page renders: each registered model's list, search, add and change pages, as a
superuser; and as a supervisor, exactly the models their group is meant to reach."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.db.models import Model
from django.test import Client, RequestFactory
from django.urls import reverse

from ratings.models import Rating
from robots.models import InboundMessage, OutboundMessage, Robot
from seats.models import Seat, SkillGroup
from seats.services import SUPERVISOR_PERMISSIONS
from sessions_app.models import (
    CannedReply,
    CustomerNote,
    FaqEntry,
    LeftMessage,
    ServiceSession,
    ServiceSettings,
    SessionEvent,
    SessionWrapUp,
    Tag,
)
from tests.factories import message_make, session_make

pytestmark = pytest.mark.django_db

MODELS = sorted(admin.site._registry, key=lambda model: model._meta.label)


@pytest.fixture
def one_of_each(servicer_seat: Seat, supervisor: User) -> None:
    """At least one row of every model the admin shows (the axes models excepted: no logins yet)."""
    group = SkillGroup.objects.create(name="售后服务", description="退换货")
    servicer_seat.skill_groups.add(group)
    session = session_make(seat=servicer_seat, state=ServiceSession.State.CLOSED)
    SessionEvent.objects.create(session=session, kind=SessionEvent.Kind.ASSIGNED, seat=servicer_seat)
    SessionEvent.objects.create(session=session, kind=SessionEvent.Kind.CLOSED, detail={"reason": "servicer_end"})
    message_make(session, "你好")
    Rating.objects.create(session=session, seat=servicer_seat, score=4, comment="不错", channel=Rating.Channel.FORM)
    LeftMessage.objects.create(customer=session.customer, session=session, text="请回电")
    tag = Tag.objects.create(name="VIP")
    session.customer.tags.add(tag)
    CustomerNote.objects.create(customer=session.customer, author=servicer_seat, text="老客户")
    SessionWrapUp.objects.create(session=session, seat=servicer_seat, summary="已解决").tags.add(tag)
    FaqEntry.objects.create(question="怎么退货？", answer="七天内申请。")
    CannedReply.objects.create(shortcut="hi", text="您好，请问有什么可以帮您？")
    ServiceSettings.load()
    robot = Robot.objects.create(robot_id="cs_robot", kind=Robot.Kind.CS)
    InboundMessage.objects.create(
        robot=robot, message_id=1, sender="c1", conv_type=0, conv_target="cs_robot", payload={}, server_timestamp=1
    )
    OutboundMessage.objects.create(
        ordering_key="cs>c1:0",
        sender_kind=OutboundMessage.SenderKind.CS_ROBOT,
        target_user_id="c1",
        payload={"type": 1, "searchableContent": "您好"},
        state=OutboundMessage.State.FAILED,
        last_error="WfcError: code 246",
    )


def _url(model: type[Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def superuser_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "root-password"))
    return client


@pytest.mark.usefixtures("one_of_each")
@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.label)
def test_every_admin_page_renders_for_a_superuser(superuser_client: Client, model: type[Model]) -> None:
    model_admin = admin.site._registry[model]
    changelist = superuser_client.get(_url(model, "changelist"), follow=True)
    assert changelist.status_code == 200
    if model_admin.search_fields:
        assert superuser_client.get(_url(model, "changelist"), {"q": "x 1"}).status_code == 200
    obj = model._default_manager.first()
    if obj is not None:
        assert superuser_client.get(_url(model, "change", obj.pk)).status_code == 200
    request = RequestFactory().get("/admin/")
    request.user = User.objects.get(username="root")
    add = superuser_client.get(_url(model, "add"))
    assert add.status_code == (200 if model_admin.has_add_permission(request) else 403)


def _supervised(model: type[Model]) -> bool:
    return model._meta.label_lower in SUPERVISOR_PERMISSIONS


@pytest.mark.usefixtures("one_of_each")
@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.label)
def test_a_supervisor_reaches_exactly_the_customer_service_models(supervisor: User, model: type[Model]) -> None:
    client = Client()
    client.force_login(supervisor)
    response = client.get(_url(model, "changelist"), follow=True)
    assert response.status_code == (200 if _supervised(model) else 403)
    obj = model._default_manager.first()
    if obj is not None and _supervised(model):
        assert client.get(_url(model, "change", obj.pk)).status_code == 200


def test_the_session_page_shows_the_timeline_and_the_transcript(superuser_client: Client, servicer_seat: Seat) -> None:
    session = session_make(seat=servicer_seat, state=ServiceSession.State.CLOSED)
    SessionEvent.objects.create(session=session, kind=SessionEvent.Kind.ASSIGNED, seat=servicer_seat)
    SessionEvent.objects.create(session=session, kind=SessionEvent.Kind.CLOSED, detail={"reason": "queue_timeout"})
    message_make(session, "我要退货")
    page = superuser_client.get(_url(ServiceSession, "change", session.pk)).content.decode()
    assert "我要退货" in page
    assert "排队超时" in page or "Queue timeout" in page
    assert 'name="_save"' not in page, "a session is a read-only record"
