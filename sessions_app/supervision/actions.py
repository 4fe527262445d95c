"""What the live view's controls send, checked and turned into calls of the supervisor flow
(``sessions_app.flow.supervisor`` and ``closing``). Every refusal is an ``ApplicationError``
with a code the page shows as a reason."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.utils.translation import gettext as _

from cs_project.errors import ApplicationError
from seats.models import Seat
from sessions_app.flow.closing import session_supervisor_end
from sessions_app.flow.supervisor import seat_supervisor_status_set, session_supervisor_reassign
from sessions_app.flow.transfer import NOTE_MAX_LENGTH
from sessions_app.models import ServiceSession


class ReassignForm(forms.Form):
    # Empty: back to the front of the queue.
    seat = forms.IntegerField(required=False, min_value=1)
    note = forms.CharField(required=False, max_length=NOTE_MAX_LENGTH)
    force = forms.BooleanField(required=False)


class EndForm(forms.Form):
    note = forms.CharField(required=False, max_length=NOTE_MAX_LENGTH)


class SeatStatusForm(forms.Form):
    status = forms.ChoiceField(choices=Seat.Status.choices)
    requeue = forms.BooleanField(required=False)
    note = forms.CharField(required=False, max_length=NOTE_MAX_LENGTH)


@dataclass(frozen=True)
class ActionOutcome:
    done: bool
    requeued: int = 0


def _cleaned(form: forms.Form) -> dict[str, object]:
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        raise ApplicationError(f"{field}: {errors[0]}", code="invalid_input")
    return form.cleaned_data


def live_reassign(*, session_id: int, data: dict[str, object]) -> ActionOutcome:
    cleaned = _cleaned(ReassignForm(data))
    seat = cleaned["seat"]
    session_supervisor_reassign(
        session_id=session_id,
        to_seat_id=seat if isinstance(seat, int) else None,
        note=str(cleaned["note"]),
        force=bool(cleaned["force"]),
    )
    return ActionOutcome(done=True)


def live_end(*, session_id: int, data: dict[str, object]) -> ActionOutcome:
    cleaned = _cleaned(EndForm(data))
    if not session_supervisor_end(session_id=session_id, note=str(cleaned["note"])):
        if not ServiceSession.objects.filter(pk=session_id).exists():
            raise ApplicationError(_("No such session."), code="not_found", status=404)
        raise ApplicationError(_("This session has ended."), code="closed", status=409)
    return ActionOutcome(done=True)


def live_seat_status(*, seat_id: int, data: dict[str, object]) -> ActionOutcome:
    cleaned = _cleaned(SeatStatusForm(data))
    requeued = seat_supervisor_status_set(
        seat_id=seat_id,
        status=Seat.Status(str(cleaned["status"])),
        requeue=bool(cleaned["requeue"]),
        note=str(cleaned["note"]),
    )
    return ActionOutcome(done=True, requeued=requeued)
