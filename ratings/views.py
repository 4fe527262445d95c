from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from cs_project.errors import ApplicationError
from cs_project.throttling import address_throttle_hit
from ratings.forms import RatingForm
from ratings.models import Rating
from ratings.services import rating_record, rating_session_from_token


@require_http_methods(["GET", "POST"])
def rating_form(request: HttpRequest, token: str) -> HttpResponse:
    # Per client address, before the link is even checked: the form is public.
    retry_after = address_throttle_hit(request, scope="rating_form")
    if retry_after is not None:
        response = render(request, "ratings/throttled.html", {"retry_after": retry_after}, status=429)
        response["Retry-After"] = str(retry_after)
        return response
    try:
        session = rating_session_from_token(token=token)
    except ApplicationError as error:
        return render(request, "ratings/closed.html", {"error": error}, status=error.status)
    seat = session.rated_seat
    context = {"seat": seat, "session": session}
    if Rating.objects.filter(session=session).exists():
        return render(request, "ratings/closed.html", {**context, "already": True}, status=409)
    form = RatingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rating_record(
                session=session,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
                channel=Rating.Channel.FORM,
            )
        except ApplicationError as error:
            return render(request, "ratings/closed.html", {**context, "error": error}, status=error.status)
        return render(request, "ratings/thanks.html", context)
    return render(request, "ratings/form.html", {**context, "form": form}, status=400 if form.errors else 200)
