"""Customers, their tags and notes, and chats' wrap-ups, as supervisors see them in the admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from seats.models import Seat
from sessions_app.models import CustomerNote, ServiceSession, SessionWrapUp, Tag
from tests.factories import customer_make, session_make

pytestmark = pytest.mark.django_db

CUSTOMERS = "/admin/sessions_app/customer/"


@pytest.fixture
def client(supervisor: User) -> Client:
    client = Client()
    client.force_login(supervisor)
    return client


def _page(client: Client, url: str, **query: str | int) -> str:
    response = client.get(url, query, headers={"accept-language": "en"})
    assert response.status_code == 200
    return response.content.decode()


def test_customers_are_listed_by_name_with_their_tags_and_filtered_by_tag(client: Client) -> None:
    vip = Tag.objects.create(name="VIP")
    named = customer_make("dkqwq4c5og")
    named.tags.add(vip)
    unnamed = customer_make("raw-id-only")
    unnamed.display_name = ""
    unnamed.save()
    listed = _page(client, CUSTOMERS)
    assert '顾客 <span class="cs-quiet">dkqwq4c5og</span>' in listed
    assert '<span class="cs-tag">VIP</span>' in listed
    assert "raw-id-only" in listed
    by_tag = _page(client, CUSTOMERS, tags__id__exact=vip.pk)
    assert "dkqwq4c5og" in by_tag
    assert "raw-id-only" not in by_tag
    assert "dkqwq4c5og" in _page(client, CUSTOMERS, q="vip")


def test_a_customers_page_shows_the_notes_servicers_wrote(client: Client, servicer_seat: Seat) -> None:
    customer = customer_make()
    CustomerNote.objects.create(customer=customer, author=servicer_seat, text="只接受电话联系")
    page = _page(client, f"{CUSTOMERS}{customer.pk}/change/")
    assert "只接受电话联系" in page
    assert "Alice" in page


def test_a_sessions_page_shows_its_wrap_up(client: Client, servicer_seat: Seat) -> None:
    session = session_make(seat=servicer_seat, state=ServiceSession.State.CLOSED)
    wrap_up = SessionWrapUp.objects.create(session=session, seat=servicer_seat, summary="已补发<b>快递</b>")
    wrap_up.tags.add(Tag.objects.create(name="物流"))
    page = _page(client, f"/admin/sessions_app/servicesession/{session.pk}/change/")
    assert '<span class="cs-tag">物流</span>' in page
    assert "已补发&lt;b&gt;快递&lt;/b&gt;" in page, "the summary is text, never HTML"
    assert "Alice" in page


def test_tags_show_how_much_they_are_used_and_a_rename_may_not_duplicate_one(
    client: Client, servicer_seat: Seat
) -> None:
    vip = Tag.objects.create(name="VIP")
    typo = Tag.objects.create(name="VIPP")
    customer_make().tags.add(vip)
    listed = _page(client, "/admin/sessions_app/tag/")
    assert "VIPP" in listed
    refused = client.post(
        f"/admin/sessions_app/tag/{typo.pk}/change/", {"name": "vip"}, headers={"accept-language": "en"}
    )
    assert refused.status_code == 200
    assert "A tag with this name already exists." in refused.content.decode()
    renamed = client.post(f"/admin/sessions_app/tag/{typo.pk}/change/", {"name": "大客户"})
    assert renamed.status_code == 302
    assert Tag.objects.get(pk=typo.pk).name == "大客户"
