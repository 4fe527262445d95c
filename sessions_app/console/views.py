"""The servicer console's pages: log in, the console itself, log out; media files in development."""

from __future__ import annotations

import mimetypes

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.views.static import serve

from robots.wfprotocol import TEXT_MAX_LENGTH
from seats.models import Seat
from seats.services import seat_status_set
from sessions_app.console.consumers import CLOSE_NO_SEAT, CLOSE_NOT_LOGGED_IN, seat_info
from sessions_app.console.selectors import seat_groups, seat_of
from sessions_app.console.text import console_strings
from sessions_app.models import ServiceSettings


class ConsoleLoginView(LoginView):
    """Signing in to the console puts the seat online: the servicer came to take customers."""

    template_name = "sessions_app/console_login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return reverse("console:page")

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        seat = seat_of(form.get_user())
        if seat is not None:
            seat_status_set(seat=seat, status=Seat.Status.ONLINE)
        return response


@login_required(login_url="console:login")
def console_page(request: HttpRequest) -> HttpResponse:
    seat = seat_of(request.user)
    if seat is None:
        return render(request, "sessions_app/console_no_seat.html", status=403)
    config = {
        "seat": seat_info(seat),
        # The queue panel's filter offers these groups when a waiting customer chose a group.
        "seatGroups": seat_groups(seat=seat),
        "websocketPath": "/ws/console/",
        "loginUrl": reverse("console:login"),
        "closeCodes": {"notLoggedIn": CLOSE_NOT_LOGGED_IN, "noSeat": CLOSE_NO_SEAT},
        "uploadMaxMb": settings.CS_UPLOAD_MAX_MB,
        "textMaxLength": TEXT_MAX_LENGTH,
        "api": {
            "sessions": reverse("sessions_app:console-sessions"),
            "messages": reverse("sessions_app:session-messages", args=[0]),
            "attach": reverse("sessions_app:session-attach", args=[0]),
            "history": reverse("sessions_app:customer-history", args=[0]),
            "cannedList": reverse("sessions_app:canned-reply-list"),
            "cannedCreate": reverse("sessions_app:canned-reply-create"),
            "cannedUpdate": reverse("sessions_app:canned-reply-update", args=[0]),
            "cannedDelete": reverse("sessions_app:canned-reply-delete", args=[0]),
            "transferTargets": reverse("sessions_app:transfer-targets"),
            "leftMessages": reverse("sessions_app:left-message-list"),
            "leftMessageHandle": reverse("sessions_app:left-message-handle", args=[0]),
            "leftMessageAnswer": reverse("sessions_app:left-message-answer", args=[0]),
            "queue": reverse("sessions_app:console-queue"),
            "queueTakeNext": reverse("sessions_app:console-queue-take-next"),
            "queueTake": reverse("sessions_app:console-queue-take", args=[0]),
            "customerCard": reverse("sessions_app:customer-card", args=[0]),
            "noteCreate": reverse("sessions_app:customer-note-create", args=[0]),
            "noteUpdate": reverse("sessions_app:customer-note-update", args=[0]),
            "noteDelete": reverse("sessions_app:customer-note-delete", args=[0]),
            "tagAdd": reverse("sessions_app:customer-tag-add", args=[0]),
            "tagRemove": reverse("sessions_app:customer-tag-remove", args=[0]),
            "tags": reverse("sessions_app:tag-list"),
            "end": reverse("sessions_app:session-end", args=[0]),
            "wrapUp": reverse("sessions_app:session-wrap-up", args=[0]),
        },
        "wrapUpRequired": ServiceSettings.load().wrap_up_required,
    }
    context = {"seat": seat, "console_config": config, "console_strings": console_strings()}
    return render(request, "sessions_app/console.html", context)


@require_POST
def console_logout(request: HttpRequest) -> HttpResponse:
    """Log out; the seat goes offline, so no new customer waits for someone who left."""
    seat = seat_of(request.user)
    if seat is not None:
        seat_status_set(seat=seat, status=Seat.Status.OFFLINE)
    logout(request)
    return redirect("console:login")


# What docs/deploy/nginx.conf shows inline too: the images the console recognises (no SVG: a script).
INLINE_MEDIA_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def media_file(request: HttpRequest, path: str) -> HttpResponseBase:
    """Uploaded files in development (a web server serves MEDIA_ROOT in production).

    Anything but an image is a download, never a page of ours: an uploaded HTML file must not
    run in the console's origin.
    """
    response = serve(request, path, document_root=str(settings.MEDIA_ROOT))
    content_type, _encoding = mimetypes.guess_type(path)
    if isinstance(response, FileResponse) and content_type not in INLINE_MEDIA_TYPES:
        response["Content-Disposition"] = "attachment"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response
