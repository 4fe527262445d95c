"""The sessions, settings, ratings and left messages pages a supervisor works with."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ratings.models import Rating
from seats.models import Seat, SkillGroup
from sessions_app.models import LeftMessage, Message, ServiceSession, ServiceSettings, SessionEvent
from tests.factories import customer_make, session_make

pytestmark = pytest.mark.django_db

SESSIONS = "/admin/sessions_app/servicesession/"


@pytest.fixture
def client(supervisor: User) -> Client:
    client = Client()
    client.force_login(supervisor)
    return client


def _listed(client: Client, url: str, **query: str | int) -> str:
    response = client.get(url, query)
    assert response.status_code == 200
    return response.content.decode()


def test_sessions_filter_by_state_seat_and_rating(
    client: Client, servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    rated = session_make(customer=customer_make("rated-one"), seat=servicer_seat, state=ServiceSession.State.CLOSED)
    Rating.objects.create(session=rated, seat=servicer_seat, score=5, channel=Rating.Channel.FORM)
    session_make(customer=customer_make("unrated-one"), seat=other_servicer_seat, state=ServiceSession.State.CLOSED)
    session_make(customer=customer_make("in-progress"), seat=other_servicer_seat)
    by_rating = _listed(client, SESSIONS, rated="yes")
    assert "rated-one" in by_rating
    assert "unrated-one" not in by_rating
    assert "unrated-one" in _listed(client, SESSIONS, rated="no")
    by_state = _listed(client, SESSIONS, state__exact="human")
    assert "in-progress" in by_state
    assert "rated-one" not in by_state
    by_seat = _listed(client, SESSIONS, seat__id__exact=servicer_seat.pk)
    assert "rated-one" in by_seat
    assert "in-progress" not in by_seat


def _grouped(name: str, group: SkillGroup | None, seat: Seat | None = None) -> ServiceSession:
    session = session_make(customer=customer_make(name), seat=seat, state=ServiceSession.State.CLOSED)
    ServiceSession.objects.filter(pk=session.pk).update(skill_group=group)
    return session


def _group_cell(page: str, session: ServiceSession) -> str:
    """The 技能组 cell of this session's row in the list."""
    rows = [row for row in page.split("<tr") if f'name="_selected_action" value="{session.pk}"' in row]
    assert len(rows) == 1
    cell = re.search(r'<td class="field-skill_group_name">(.*?)</td>', rows[0], re.DOTALL)
    assert cell is not None
    return cell.group(1).strip()


def test_sessions_show_and_filter_by_the_customers_skill_group(client: Client) -> None:
    pre_sales = SkillGroup.objects.create(name="售前咨询", menu_order=1)
    after_sales = SkillGroup.objects.create(name="售后服务", menu_order=2)
    buyer, returner, plain = (
        _grouped("wants-pre-sales", pre_sales),
        _grouped("wants-after-sales", after_sales),
        _grouped("no-group-at-all", None),
    )

    everything = _listed(client, SESSIONS)
    assert (_group_cell(everything, buyer), _group_cell(everything, returner)) == ("售前咨询", "售后服务")
    assert _group_cell(everything, plain) == "—"
    assert "未选技能组" in everything  # the filter's "no group" choice, in Chinese by default

    by_group = _listed(client, SESSIONS, skill_group=after_sales.pk)
    assert "wants-after-sales" in by_group
    assert "wants-pre-sales" not in by_group
    assert "no-group-at-all" not in by_group
    no_group = _listed(client, SESSIONS, skill_group="none")
    assert "no-group-at-all" in no_group
    assert "wants-pre-sales" not in no_group
    assert "wants-after-sales" not in no_group


def test_the_sessions_list_costs_the_same_queries_for_3_or_30_sessions(client: Client, servicer_seat: Seat) -> None:
    """Customer, seat, rating and skill group come in the list's one query (select_related)."""
    groups = [SkillGroup.objects.create(name=f"组{number}") for number in range(3)]

    def list_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(SESSIONS).status_code == 200
        return len(queries)

    for number in range(3):
        _grouped(f"few-{number}", groups[number], seat=servicer_seat)
    few = list_queries()
    for number in range(27):
        _grouped(f"many-{number}", groups[number % 3] if number % 4 else None, seat=servicer_seat)
    many = list_queries()
    assert many == few, (few, many)


def test_sessions_are_found_by_customer_or_number(client: Client, servicer_seat: Seat) -> None:
    session = session_make(customer=customer_make("wx-12345"), seat=servicer_seat)
    assert "wx-12345" in _listed(client, SESSIONS, q="wx-123")
    assert "wx-12345" in _listed(client, SESSIONS, q=f"#{session.pk}")


def test_ending_a_session_from_the_list_closes_it_through_the_service(
    client: Client, servicer_seat: Seat, django_capture_on_commit_callbacks: object
) -> None:
    session = session_make(seat=servicer_seat)
    Seat.objects.filter(pk=servicer_seat.pk).update(active_sessions=1)
    confirm = client.post(SESSIONS, {"action": "force_end", "_selected_action": [session.pk]})
    assert confirm.status_code == 200  # a confirmation page with the reason first; nothing ended yet
    assert 'name="note"' in confirm.content.decode()
    assert ServiceSession.objects.get(pk=session.pk).state == ServiceSession.State.HUMAN
    response = client.post(
        SESSIONS, {"action": "force_end", "_selected_action": [session.pk], "confirm": "yes", "note": "重复会话"}
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert (session.state, session.close_reason, session.rated_seat_id) == (
        "closed",
        "supervisor_end",
        servicer_seat.pk,
    )
    assert session.events.get(kind=SessionEvent.Kind.CLOSED).detail == {"reason": "supervisor_end", "note": "重复会话"}
    servicer_seat.refresh_from_db()
    assert servicer_seat.active_sessions == 0


def test_sessions_cannot_be_added_changed_or_deleted(client: Client, servicer_seat: Seat) -> None:
    session = session_make(seat=servicer_seat, state=ServiceSession.State.CLOSED)
    assert client.get(f"{SESSIONS}add/").status_code == 403
    assert client.get(f"{SESSIONS}{session.pk}/delete/").status_code == 403
    client.post(f"{SESSIONS}{session.pk}/change/", {"state": "bot"})
    session.refresh_from_db()
    assert session.state == ServiceSession.State.CLOSED


def test_the_settings_list_goes_straight_to_the_one_row(client: Client) -> None:
    response = client.get("/admin/sessions_app/servicesettings/")
    row = ServiceSettings.load()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/sessions_app/servicesettings/{row.pk}/change/"
    assert ServiceSettings.objects.count() == 1
    assert client.get("/admin/sessions_app/servicesettings/add/").status_code == 403
    assert client.get(f"/admin/sessions_app/servicesettings/{row.pk}/delete/").status_code == 403


def _settings_form(row: ServiceSettings, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {}
    for field in ServiceSettings._meta.fields:
        if not field.editable or field.primary_key:
            continue
        value = getattr(row, field.name)
        if isinstance(value, bool):
            if value:
                data[field.name] = "on"
        elif hasattr(value, "strftime"):
            data[field.name] = value.strftime("%H:%M:%S")
        else:
            data[field.name] = value
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_settings_are_saved_without_a_restart(client: Client) -> None:
    row = ServiceSettings.load()
    url = f"/admin/sessions_app/servicesettings/{row.pk}/change/"
    response = client.post(url, _settings_form(row, welcome_text="欢迎光临！", queue_timeout_minutes=15))
    assert response.status_code == 302, response.content.decode()[:3000]
    row.refresh_from_db()
    assert (row.welcome_text, row.queue_timeout_minutes) == ("欢迎光临！", 15)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("assigned_text", "客服 {nmae} 为您服务。"),
        ("queued_text", "前面还有 {ahead 位"),
        ("queued_text", "前面还有 {ahead:s} 位"),  # a format spec: fails on the number the flow passes
        ("queued_text", "前面还有 {ahead.real} 位"),  # an attribute: a 500 in the form before
        ("rating_prompt_text", "请评价 {url!r}"),
        # The English variants are formatted with the same values, so checked the same way.
        ("assigned_text_en", "{nmae} is here to help you."),
        ("queued_text_en", "{ahead customers are ahead of you"),
        ("rating_prompt_text_en", "Please rate us: {link}"),
        ("business_days", "1,2,8"),
        ("business_hours_end", "08:00:00"),
        ("answer_threshold", "1.5"),
        ("suggest_threshold", "0.9"),  # above the answer threshold: the bot would never answer
        ("answer_margin", "-0.1"),
        ("faq_synonyms", "优惠券 券"),  # one character: "证券" would read "证优惠券"
    ],
)
def test_settings_that_would_break_the_flow_are_refused(client: Client, field: str, value: str) -> None:
    row = ServiceSettings.load()
    url = f"/admin/sessions_app/servicesettings/{row.pk}/change/"
    response = client.post(url, _settings_form(row, **{field: value}))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors.get(field)
    row.refresh_from_db()
    assert str(getattr(row, field)) != value


def test_an_english_text_may_use_the_placeholders_of_its_chinese_one(client: Client) -> None:
    row = ServiceSettings.load()
    url = f"/admin/sessions_app/servicesettings/{row.pk}/change/"
    english = "{ahead} ahead of you: you are number {position}."
    response = client.post(url, _settings_form(row, queued_text_en=english))
    assert response.status_code == 302, response.content.decode()[:3000]
    row.refresh_from_db()
    assert row.queued_text_en == english


def test_the_settings_page_shows_every_setting_once_with_the_english_texts_folded(client: Client) -> None:
    row = ServiceSettings.load()
    response = client.get(f"/admin/sessions_app/servicesettings/{row.pk}/change/", headers={"accept-language": "en"})
    assert response.status_code == 200
    fieldsets = response.context["adminform"].fieldsets
    shown = [name for _title, options in fieldsets for name in options["fields"]]
    editable = [field.name for field in ServiceSettings._meta.fields if field.editable and not field.primary_key]
    assert sorted(shown) == sorted(editable), "each setting in exactly one group"
    groups = {str(title): options for title, options in fieldsets}
    assert "Other" not in groups, groups["Other"]["fields"]
    assert sorted(groups["English texts"]["fields"]) == sorted(name for name in editable if name.endswith("_en"))
    assert "collapse" in groups["English texts"]["classes"]
    assert {"suggest_threshold", "answer_margin", "faq_synonyms", "human_intent_phrases"} <= set(
        groups["Bot"]["fields"]
    )


def test_left_messages_are_searchable_and_can_be_marked_handled(client: Client) -> None:
    customer = customer_make("night-owl")
    message = LeftMessage.objects.create(customer=customer, text="明天请给我回电话")
    LeftMessage.objects.create(customer=customer_make(), text="别的事情")
    page = _listed(client, "/admin/sessions_app/leftmessage/", q="回电话")
    assert "明天请给我回电话" in page
    assert "别的事情" not in page
    response = client.post(
        "/admin/sessions_app/leftmessage/", {"action": "mark_handled", "_selected_action": [message.pk]}
    )
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.handled_at is not None
    assert "明天请给我回电话" not in _listed(client, "/admin/sessions_app/leftmessage/", handled="no")


def test_ratings_are_searchable_by_comment_customer_and_seat(client: Client, servicer_seat: Seat) -> None:
    session = session_make(customer=customer_make("happy-customer"), seat=servicer_seat, state="closed")
    Rating.objects.create(session=session, seat=servicer_seat, score=5, comment="非常耐心", channel="form")
    for query in ("耐心", "happy-customer", "Alice"):
        assert "非常耐心" in _listed(client, "/admin/ratings/rating/", q=query), query
    rating = Rating.objects.get()
    assert client.get(f"/admin/ratings/rating/{rating.pk}/delete/").status_code == 403


def test_the_transcript_links_only_http_attachments(client: Client) -> None:
    session = session_make(customer=customer_make("links"), state=ServiceSession.State.BOT)
    for seq, url in enumerate(
        ["javascript:alert(document.cookie)", " JaVaScRiPt:alert(2)", "https://cdn.example.com/a.png"]
    ):
        Message.objects.create(
            session=session,
            seq=seq + 1,
            direction=Message.Direction.IN,
            author=Message.Author.CUSTOMER,
            content_type=3,
            payload={"type": 3, "searchableContent": "[图片]", "remoteMediaUrl": url},
            server_timestamp=1_700_000_000_000 + seq,
        )
    page = _listed(client, f"{SESSIONS}{session.pk}/change/")
    assert 'href="https://cdn.example.com/a.png"' in page
    assert 'href="javascript' not in page.lower().replace(" ", "")
    assert "javascript:alert(document.cookie)" in page, "shown as text"


def test_reassigning_from_the_list_asks_for_the_seat_then_moves_it(
    client: Client, servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    Seat.objects.filter(pk__in=[servicer_seat.pk, other_servicer_seat.pk]).update(status=Seat.Status.ONLINE)
    Seat.objects.filter(pk=servicer_seat.pk).update(active_sessions=1)
    session = session_make(seat=servicer_seat)
    page = client.post(SESSIONS, {"action": "reassign", "_selected_action": [session.pk]})
    assert page.status_code == 200
    assert 'name="seat"' in page.content.decode()
    done = client.post(
        SESSIONS,
        {
            "action": "reassign",
            "_selected_action": [session.pk],
            "confirm": "yes",
            "seat": other_servicer_seat.pk,
            "note": "请跟进",
        },
    )
    assert done.status_code == 302
    session.refresh_from_db()
    assert session.seat_id == other_servicer_seat.pk
    again = client.post(
        SESSIONS, {"action": "reassign", "_selected_action": [session.pk], "confirm": "yes", "seat": ""}, follow=True
    )
    assert ServiceSession.objects.get(pk=session.pk).state == ServiceSession.State.QUEUED
    assert again.status_code == 200
