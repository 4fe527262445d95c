"""The supervisor sees why the bot says what it says: the "test the bot" page of the FAQ admin
(outcome, closest entries with scores and matched words, thresholds, the customer's text) and, in
a session's transcript, the entry and score under each bot message."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.auth.models import Permission, User
from django.template.defaultfilters import floatformat
from django.test import Client

from seats.models import Seat
from sessions_app.flow.autoanswer import FaqAnswerer
from sessions_app.models import FaqEntry, Message, ServiceSession, ServiceSettings
from tests.support.cs_stack import Stack

TEST_PAGE = "/admin/sessions_app/faqentry/test/"


@pytest.fixture
def client(supervisor: User) -> Client:
    client = Client()
    client.force_login(supervisor)
    return client


@pytest.fixture
def small_faq(db: None) -> dict[str, FaqEntry]:
    rows = {
        "return": ("怎么退货", "如何退货\n退货流程", "七天内可在订单页申请退货。"),
        "shipping": ("发货时间", "什么时候发货", "付款后 48 小时内发货。"),
        "invoice": ("怎么开发票", "发票抬头怎么改", "在订单详情页点“申请发票”。"),
        "points": ("会员积分怎么用", "积分兑换", "积分可在结算时抵扣。"),
        "refund": ("退款多久到账", "退款进度", "退款 1-3 个工作日到账。"),
    }
    return {
        key: FaqEntry.objects.create(question=question, alternatives=alternatives, answer=answer, rank=rank)
        for rank, (key, (question, alternatives, answer)) in enumerate(rows.items(), start=1)
    }


def _page(client: Client, question: str | None = None) -> str:
    response = client.get(TEST_PAGE, None if question is None else {"q": question})
    assert response.status_code == 200
    return response.content.decode()


def _rows(page: str) -> list[str]:
    """The closest-entries table's body rows, as text (tags dropped, blanks squeezed)."""
    body = page.split('id="cs-bot-candidates"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in body.split("</tr>")[:-1]]


def _reply(page: str) -> str:
    return html.unescape(page.split('id="cs-bot-reply">', 1)[1].split("</pre>", 1)[0])


def test_the_faq_list_links_to_the_test_page(client: Client) -> None:
    page = client.get("/admin/sessions_app/faqentry/").content.decode()
    assert f'href="{TEST_PAGE}"' in page
    assert "测试机器人" in page


def test_the_empty_page_shows_the_form_and_the_thresholds_in_use(client: Client) -> None:
    config = ServiceSettings.load()
    config.answer_threshold, config.suggest_threshold, config.answer_margin = 0.65, 0.25, 0.15
    config.save()
    page = _page(client)
    assert 'name="q"' in page
    assert "cs-bot-test-result" not in page
    assert "得分达到 0.65 且领先第二名至少 0.15 时直接回答" in page
    assert "得分达到 0.25 的条目列为推荐" in page
    assert '<a href="/admin/sessions_app/faqentry/">' in page, "the breadcrumbs lead back to the entries"


def test_a_question_the_faq_knows_would_be_answered_with_its_entry(
    client: Client, small_faq: dict[str, FaqEntry]
) -> None:
    page = _page(client, "我想退货")
    entry = small_faq["return"]
    assert '<p class="cs-bot-outcome cs-bot-outcome-answer" id="cs-bot-outcome">会直接回答</p>' in page
    best = FaqAnswerer.configured(ServiceSettings.load()).decide("我想退货", customer_id="").candidates[0]
    assert _rows(page)[0] == f"怎么退货 {floatformat(best.score, 2)} 退货 怎么退货"  # entry, score, words, phrasing
    assert f'<a href="/admin/sessions_app/faqentry/{entry.pk}/change/">怎么退货</a>' in page
    assert 'class="cs-bot-chosen"' in page.split("<tbody>", 1)[1].split("</tr>", 1)[0]
    assert _reply(page) == "七天内可在订单页申请退货。"


def test_an_unsure_question_would_get_the_list_the_customer_would_see(
    client: Client, small_faq: dict[str, FaqEntry]
) -> None:
    page = _page(client, "发票和退货的事")
    assert "会给出推荐列表" in page
    rows = [row.split() for row in _rows(page)]
    assert [(row[0], row[2]) for row in rows] == [("怎么退货", "退货"), ("怎么开发票", "发票")]
    assert all(re.fullmatch(r"0\.\d\d", row[1]) for row in rows), rows
    assert _reply(page) == "您是不是想问（回复数字即可）：\n1. 怎么退货\n2. 怎么开发票"


def test_an_unknown_question_says_the_bot_would_offer_a_person(client: Client, small_faq: dict[str, FaqEntry]) -> None:
    page = _page(client, "你们的量子引擎支持哪些协议")
    assert '<p class="cs-bot-outcome cs-bot-outcome-unknown" id="cs-bot-outcome">不知道，会提供转人工</p>' in page
    assert _rows(page) == ["没有条目与这个问题有共同的词。"]
    assert _reply(page) == ServiceSettings.load().fallback_text


def test_an_english_question_gets_the_english_texts(client: Client, small_faq: dict[str, FaqEntry]) -> None:
    page = _page(client, "what is quantum entanglement")
    assert "不知道，会提供转人工" in page
    assert _reply(page) == ServiceSettings.load().fallback_text_en


def test_a_request_for_a_person_is_pointed_out(client: Client, small_faq: dict[str, FaqEntry]) -> None:
    assert "这句话是在要求人工服务" in _page(client, "转人工")
    assert "这句话是在要求人工服务" not in _page(client, "我想退货")


def test_a_question_over_500_characters_is_refused(client: Client, small_faq: dict[str, FaqEntry]) -> None:
    page = _page(client, "退货" * 250 + "吗")
    assert '<p class="errornote">' in page
    assert "501" in page.split('<p class="errornote">', 1)[1].split("</p>", 1)[0]
    assert "cs-bot-test-result" not in page
    assert "cs-bot-test-result" in _page(client, "退货" * 250), "500 characters are accepted"


def test_a_servicer_is_sent_to_the_login(servicer_seat: Seat) -> None:
    client = Client()
    client.force_login(servicer_seat.user)
    response = client.get(TEST_PAGE, {"q": "我想退货"})
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_without_the_faq_view_permission_is_refused(db: None) -> None:
    user = User.objects.create_user(username="viewer", password="viewer-pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_servicesession"))
    client = Client()
    client.force_login(user)
    assert client.get(TEST_PAGE, {"q": "我想退货"}).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_faqentry"))
    client.force_login(User.objects.get(pk=user.pk))  # permissions are cached on the user object
    assert client.get(TEST_PAGE, {"q": "我想退货"}).status_code == 200


def test_the_transcript_shows_the_entry_and_score_of_each_bot_answer(
    cs_stack: Stack, faq: list[FaqEntry], supervisor: User
) -> None:
    invoice = FaqEntry.objects.create(question="怎么开发票", answer="在订单详情页点“申请发票”。", rank=3)
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "请问如何退货呢？")
    cs_stack.im.wait_for_text(customer, "七天内")
    cs_stack.im.say(customer, "发票和退货的事")
    cs_stack.im.wait_for_text(customer, "您是不是想问")
    cs_stack.im.say(customer, "量子纠缠")
    cs_stack.im.wait_for_text(customer, "没有找到答案")
    session = ServiceSession.objects.get(customer__im_user_id=customer)
    answered = session.messages.get(author=Message.Author.BOT, payload__searchableContent__icontains="七天内")
    assert answered.bot_match is not None, [(m.payload, m.bot_match) for m in session.messages.all()]

    client = Client()
    client.force_login(supervisor)
    response = client.get(f"/admin/sessions_app/servicesession/{session.pk}/change/")
    assert response.status_code == 200
    lines = [
        " ".join(html.unescape(re.sub(r"<[^>]+>", " ", line)).split())
        for line in re.findall(r'<div class="cs-bot-match">(.*?)</div>', response.content.decode())
    ]
    returns = faq[0]
    assert lines[0] == f"回答： 怎么退货 · {floatformat(answered.bot_match['score'], 2)} · 匹配： 退货"
    assert re.fullmatch(r"推荐： 怎么退货 0\.\d\d · 怎么开发票 0\.\d\d", lines[1]), lines
    assert lines[2] == "不知道", lines
    assert len(lines) == 3, "the welcome says nothing of a match"
    page = response.content.decode()
    assert f'<a href="/admin/sessions_app/faqentry/{returns.pk}/change/">怎么退货</a>' in page
    assert f'<a href="/admin/sessions_app/faqentry/{invoice.pk}/change/">怎么开发票</a>' in page
