from __future__ import annotations

import time
from typing import Any

import pytest
from django.core import signing
from django.test import Client

from ratings.models import Rating
from ratings.services import LINK_MAX_AGE_SECONDS, rating_record, rating_token
from seats.models import Seat
from sessions_app.models import ServiceSession
from tests.factories import session_make

# Every test starts with empty throttle counters (the rating form counts requests per address in Redis).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("redis_client")]


@pytest.fixture
def closed_session(servicer_seat: Seat) -> ServiceSession:
    return session_make(seat=servicer_seat, state=ServiceSession.State.CLOSED)


def _url(session: ServiceSession) -> str:
    return f"/rate/{rating_token(session=session)}/"


def test_the_form_shows_the_servicers_name(closed_session: ServiceSession) -> None:
    response = Client().get(_url(closed_session))
    assert response.status_code == 200
    assert "Alice" in response.content.decode()


def test_submitting_records_one_rating_for_the_rated_seat(closed_session: ServiceSession) -> None:
    client = Client(enforce_csrf_checks=True)
    page = client.get(_url(closed_session))
    token = page.cookies["csrftoken"].value
    response = client.post(_url(closed_session), {"score": "5", "comment": "耐心", "csrfmiddlewaretoken": token})
    assert response.status_code == 200
    rating = Rating.objects.get(session=closed_session)
    assert (rating.score, rating.comment, rating.seat_id, rating.channel) == (
        5,
        "耐心",
        closed_session.rated_seat_id,
        "form",
    )


def test_the_form_needs_the_csrf_token(closed_session: ServiceSession) -> None:
    response = Client(enforce_csrf_checks=True).post(_url(closed_session), {"score": "5"})
    assert response.status_code == 403
    assert not Rating.objects.exists()


def test_a_second_submission_is_refused_with_a_clear_page(closed_session: ServiceSession) -> None:
    client = Client()
    assert client.post(_url(closed_session), {"score": "4"}).status_code == 200
    again = client.post(_url(closed_session), {"score": "1"})
    assert again.status_code == 409
    assert "已经评价" in again.content.decode() or "already been rated" in again.content.decode()
    assert Rating.objects.get(session=closed_session).score == 4


def test_a_missing_score_is_a_form_error(closed_session: ServiceSession) -> None:
    response = Client().post(_url(closed_session), {"comment": "x"})
    assert response.status_code == 400
    assert not Rating.objects.exists()


def test_an_expired_link_is_refused(closed_session: ServiceSession) -> None:
    class EightDaysAgo(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time()) - LINK_MAX_AGE_SECONDS - 60)

    token = EightDaysAgo(salt="ratings.link").sign_object({"s": closed_session.pk}, compress=True)
    response = Client().get(f"/rate/{token}/")
    assert response.status_code == 410
    assert "此评价链接已过期。" in response.content.decode()  # the reason in the page's language
    english = Client().get(f"/rate/{token}/", headers={"accept-language": "en"})
    assert "This rating link has expired." in english.content.decode()


def test_a_forged_link_is_refused(closed_session: ServiceSession) -> None:
    response = Client().get(f"/rate/{rating_token(session=closed_session)}x/")
    assert response.status_code == 404
    assert "此评价链接无效。" in response.content.decode()


def test_the_rating_stays_with_the_seat_fixed_at_prompt_time(
    closed_session: ServiceSession, other_servicer_seat: Seat
) -> None:
    rated = closed_session.rated_seat_id
    ServiceSession.objects.filter(pk=closed_session.pk).update(seat=other_servicer_seat)
    closed_session.refresh_from_db()
    rating = rating_record(session=closed_session, score=3, channel=Rating.Channel.FORM)
    assert rating.seat_id == rated


@pytest.fixture
def low_rating_rate(settings: Any) -> None:
    # An hourly window: a burst of a few requests never straddles a window's end in practice.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "rating_form": "3/hour"},
    }


@pytest.mark.usefixtures("low_rating_rate")
def test_a_burst_of_gets_and_posts_from_one_address_gets_a_clear_429_page(closed_session: ServiceSession) -> None:
    client = Client(REMOTE_ADDR="203.0.113.40")
    assert client.get(_url(closed_session)).status_code == 200
    assert client.post(_url(closed_session), {"comment": "x"}).status_code == 400
    assert client.get(f"/rate/{rating_token(session=closed_session)}x/").status_code == 404  # forged links count
    refused = client.post(_url(closed_session), {"score": "5"})
    assert refused.status_code == 429
    assert not Rating.objects.exists(), "a refused rating is not recorded"
    assert 1 <= int(refused["Retry-After"]) <= 3600
    page = refused.content.decode()
    assert "请求过于频繁" in page
    assert "rating.css" in page
    english = client.get(_url(closed_session), headers={"accept-language": "en"})
    assert english.status_code == 429
    assert "Too many requests" in english.content.decode()


@pytest.mark.usefixtures("low_rating_rate")
def test_another_address_is_not_affected(closed_session: ServiceSession) -> None:
    first = Client(REMOTE_ADDR="203.0.113.41")
    assert [first.get(_url(closed_session)).status_code for _ in range(4)] == [200, 200, 200, 429]
    other = Client(REMOTE_ADDR="203.0.113.42")
    assert other.post(_url(closed_session), {"score": "4"}).status_code == 200
    assert Rating.objects.get(session=closed_session).score == 4


@pytest.mark.usefixtures("low_rating_rate")
def test_behind_nginx_each_customer_is_counted_by_their_own_address(
    closed_session: ServiceSession, settings: Any
) -> None:
    settings.CS_TRUSTED_PROXY_COUNT = 1
    nginx = Client(REMOTE_ADDR="127.0.0.1")
    for _ in range(3):
        nginx.get(_url(closed_session), headers={"x-forwarded-for": "203.0.113.43"})
    assert nginx.get(_url(closed_session), headers={"x-forwarded-for": "203.0.113.43"}).status_code == 429
    assert nginx.get(_url(closed_session), headers={"x-forwarded-for": "203.0.113.44"}).status_code == 200
