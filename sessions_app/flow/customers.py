"""Writes on customers: their IM profile (read from the IM server) and the tags servicers give them."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from cs_project.errors import ApplicationError
from cs_project.task_queue import task_enqueue
from sessions_app.events import CustomerEvent, event_to_consoles, event_to_seat, event_to_supervisors
from sessions_app.models import Customer, LeftMessage, ServiceSession, Tag

TAG_MAX_LENGTH = 32
PROFILE_READ_TASK = "robots.tasks.user_profile_read_task"


def customer_profile_fetch_soon(*, im_user_id: str) -> None:
    """A customer was created (their first message): read their IM profile once this transaction
    commits, in a worker. The callback's transaction never waits for the IM server, and the queue,
    the consoles and the left messages show the customer's name from the first minutes on, not only
    once a shadow is provisioned for them. A failure to queue is logged (``robust``): the shadow's
    provisioning reads the profile too."""
    transaction.on_commit(lambda: task_enqueue(PROFILE_READ_TASK, im_user_id), robust=True)


def customer_profile_read(*, im_user_id: str, display_name: str, avatar_url: str) -> None:
    """The IM server's profile of a user was read (robots.handlers): keep it on the customer, if one,
    and tell the views that show them by id: their servicer's console, every console while the
    customer has a left message waiting, and the supervisors' live view while they are queued or served.

    Cut to the columns' sizes: an IM display name may be longer than ours (128).
    """
    name_length = Customer._meta.get_field("display_name").max_length or 128
    avatar_length = Customer._meta.get_field("avatar_url").max_length or 500
    display_name, avatar_url = display_name[:name_length], avatar_url[:avatar_length]
    changed = list(
        Customer.objects.filter(im_user_id=im_user_id)
        .exclude(display_name=display_name, avatar_url=avatar_url)
        .values_list("pk", flat=True)
    )
    if not changed:
        return
    Customer.objects.filter(pk__in=changed).update(display_name=display_name, avatar_url=avatar_url)
    customer = Customer(pk=changed[0], im_user_id=im_user_id, display_name=display_name, avatar_url=avatar_url)
    event: CustomerEvent = {
        "type": "customer.updated",
        "customer_id": customer.pk,
        "customer_name": str(customer),
        "customer_avatar": customer.avatar_url,
    }
    live = ServiceSession.objects.filter(
        customer=customer, state__in=[ServiceSession.State.QUEUED, ServiceSession.State.HUMAN]
    ).values_list("state", "seat_id")
    for state, seat_id in live:
        if state == ServiceSession.State.HUMAN and seat_id is not None:
            event_to_seat(seat_id, event)
    if live:
        event_to_supervisors(event)
    if LeftMessage.objects.filter(customer=customer, handled_at__isnull=True).exists():
        event_to_consoles(event)


def tag_name_clean(raw: str) -> str:
    """A tag's name as kept: spaces trimmed and runs of them made one; refused when empty or too long."""
    name = " ".join(raw.split())
    if not name:
        raise ApplicationError(_("A tag needs a name."), code="bad_tag")
    if len(name) > TAG_MAX_LENGTH:
        raise ApplicationError(
            _("A tag may have at most %(count)d characters.") % {"count": TAG_MAX_LENGTH}, code="bad_tag"
        )
    return name


def tags_resolve(names: Iterable[str]) -> list[Tag]:
    """The tags of these names, in their order without repeats, created when new. A name matches
    an existing tag whatever its case ("vip" is the tag "VIP", which keeps its spelling)."""
    tags: list[Tag] = []
    for raw in names:
        name = tag_name_clean(raw)
        # Two servicers creating one tag at once: get_or_create catches the loser's IntegrityError
        # (the case-insensitive unique constraint) and reads the winner's row.
        tag, _created = Tag.objects.get_or_create(name__iexact=name, defaults={"name": name})
        if tag not in tags:
            tags.append(tag)
    return tags
