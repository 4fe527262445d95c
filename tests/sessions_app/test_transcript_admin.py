"""A session's transcript in the admin: in seq order, control messages as readable lines."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation

from robots.wfprotocol.content import CsControl
from seats.models import Seat
from seats.services import seat_create_with_user, supervisor_create
from sessions_app.flow.supervisor import session_supervisor_take_over, session_supervisor_whisper
from sessions_app.models import Message, ServiceSession
from sessions_app.supervision.control_lines import control_line
from tests.factories import message_make, session_make

pytestmark = pytest.mark.django_db

SERVICER: dict[str, object] = {"servicer": {"id": "7", "name": "客服小李", "avatar": ""}}


@pytest.mark.parametrize(
    ("kind", "data", "chinese", "english"),
    [
        (CsControl.ENTER, {}, "客户进入客服", "The customer opened customer service"),
        (CsControl.TRANSFER_TO_HUMAN, {}, "客户请求人工客服", "The customer asked for a human servicer"),
        (CsControl.EXIT, {}, "客户退出会话", "The customer left the conversation"),
        (CsControl.RATING, {"score": 4}, "客户评分：4", "The customer rated the service: 4"),
        (CsControl.CANCEL_QUEUE, {}, "客户取消排队", "The customer stopped waiting in the queue"),
        (CsControl.SERVICER_ASSIGNED, SERVICER, "转接给 客服小李", "Handed to 客服小李"),
        (CsControl.SESSION_CLOSED, {"reason": "idle_timeout"}, "会话结束：", "Session ended: Idle timeout"),
        (CsControl.RATING_REQUEST, SERVICER, "请客户评价 客服小李", "The customer was asked to rate 客服小李"),
        (CsControl.QUEUE_POSITION, {"position": 3}, "第 3 位", "Queue position told to the customer: 3"),
    ],
)
def test_each_control_kind_reads_as_a_line(
    kind: CsControl, data: dict[str, object], chinese: str, english: str
) -> None:
    content = json.dumps(data, ensure_ascii=False)
    with translation.override("zh-hans"):
        assert chinese in (control_line(content_type=int(kind), content=content) or "")
    with translation.override("en"):
        assert control_line(content_type=int(kind), content=content) == english


def test_bad_json_or_an_unknown_type_is_not_fatal() -> None:
    with translation.override("en"):
        assert control_line(content_type=int(CsControl.SERVICER_ASSIGNED), content="{nope") == "Handed to ?"
    assert control_line(content_type=1999, content="{}") is None


def _control(session: ServiceSession, kind: CsControl, data: dict[str, object]) -> Message:
    session.last_seq += 1
    session.save(update_fields=["last_seq"])
    return Message.objects.create(
        session=session,
        seq=session.last_seq,
        direction=Message.Direction.OUT,
        author=Message.Author.SYSTEM,
        content_type=int(kind),
        payload={"type": int(kind), "content": json.dumps(data, ensure_ascii=False)},
        server_timestamp=1,
    )


def test_the_transcript_is_in_seq_order_with_readable_control_lines(supervisor: User, servicer_seat: Seat) -> None:
    session = session_make(seat=servicer_seat)
    first = message_make(session, "第一条消息")
    _control(session, CsControl.SERVICER_ASSIGNED, SERVICER)
    # The IM server's clock put the first message after the second: seq still decides.
    Message.objects.filter(pk=first.pk).update(server_timestamp=10**13)
    client = Client()
    client.force_login(supervisor)
    page = client.get(
        f"/admin/sessions_app/servicesession/{session.pk}/change/", headers={"accept-language": "zh-hans"}
    ).content.decode()
    assert page.index("第一条消息") < page.index("转接给 客服小李")
    assert "[1101]" not in page


def test_a_whisper_and_a_take_over_read_as_internal_in_the_record(supervisor: User, servicer_seat: Seat) -> None:
    boss = supervisor_create(username="boss", password="boss-password")
    boss_seat = seat_create_with_user(username="boss", password="boss-password", display_name="王经理")
    Seat.objects.filter(pk__in=[servicer_seat.pk, boss_seat.pk]).update(status=Seat.Status.ONLINE, active_sessions=1)
    session = session_make(seat=servicer_seat)
    session_supervisor_whisper(session_id=session.pk, supervisor=boss, text="先核实订单")
    session_supervisor_take_over(session_id=session.pk, supervisor=boss)
    client = Client()
    client.force_login(supervisor)
    page = client.get(
        f"/admin/sessions_app/servicesession/{session.pk}/change/", headers={"accept-language": "zh-hans"}
    ).content.decode()
    assert "内部（王经理 的悄悄话，客户看不到）</span> 先核实订单" in page
    assert "主管 王经理 从 Alice 接管" in page
