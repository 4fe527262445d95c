"""Writes on seats: creating them and changing their status."""

from __future__ import annotations

from typing import Protocol

from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, Permission, User
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from cs_project.errors import ApplicationError
from seats.models import Seat


class SeatStatusListener(Protocol):
    """Told of every status or capacity set, inside its transaction: the flow above announces it and
    drains the queue."""

    def __call__(self, *, seat: Seat) -> None: ...


_status_listeners: list[SeatStatusListener] = []


def seat_status_listener_register(listener: SeatStatusListener) -> None:
    """Called at start-up (an ``AppConfig.ready``) by an app above seats; seats never imports it."""
    if listener not in _status_listeners:
        _status_listeners.append(listener)


@transaction.atomic
def seat_status_set(*, seat: Seat, status: Seat.Status, automatic: bool = False) -> Seat:
    """Change a seat's status and tell the listeners (going online drains the queue onto it).

    ``automatic`` marks an away set by presence (the console's connection dropped); any other
    change clears the mark, so a servicer's own choice is never undone on reconnect.
    """
    seat = Seat.objects.select_for_update(no_key=True, of=("self",)).get(pk=seat.pk)
    away_automatic = automatic and status == Seat.Status.AWAY
    if seat.status != status or seat.away_automatic != away_automatic:
        if seat.status != status:
            seat.status_changed_at = timezone.now()
        seat.status = status
        seat.away_automatic = away_automatic
        seat.save(update_fields=["status", "status_changed_at", "away_automatic"])
    for listener in _status_listeners:
        listener(seat=seat)
    return seat


@transaction.atomic
def seat_capacity_set(*, seat: Seat, capacity: int) -> Seat:
    """Change how many sessions a seat may hold and tell the listeners, as a status change does:
    its console's load pill follows at once, and a larger capacity drains the queue onto it."""
    if capacity < 0:
        raise ApplicationError(gettext("Capacity cannot be negative."), code="capacity_negative")
    seat = Seat.objects.select_for_update(no_key=True, of=("self",)).get(pk=seat.pk)
    if seat.capacity != capacity:
        seat.capacity = capacity
        seat.save(update_fields=["capacity"])
    for listener in _status_listeners:
        listener(seat=seat)
    return seat


@transaction.atomic
def seat_create_with_user(
    *,
    username: str,
    password: str,
    display_name: str,
    capacity: int = 3,
    im_user_id: str = "",
    avatar_url: str = "",
) -> Seat:
    """Create (or update, when the login exists) a servicer account with its seat."""
    user, _ = User.objects.get_or_create(username=username)
    user.set_password(password)
    user.save(update_fields=["password"])
    seat, _ = Seat.objects.update_or_create(
        user=user,
        defaults={
            "display_name": display_name,
            "capacity": capacity,
            "im_user_id": im_user_id,
            "avatar_url": avatar_url,
        },
    )
    return seat


SUPERVISOR_GROUP = "supervisors"

# Exactly what supervisors need, model by model. No delete on anything that is history
# (sessions, transcripts, timelines, ratings, left messages, the outbox); no add where rows are
# only ever created by the customer-service flow; nothing on users, groups or the admin log, so a
# supervisor can never raise their own rights. "change" on sessions and the outbox only unlocks
# the admin actions (end a session, retry a message): their fields are read-only.
SUPERVISOR_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "seats.seat": ("view", "add", "change"),
    "seats.skillgroup": ("view", "add", "change", "delete"),
    "sessions_app.servicesession": ("view", "change"),
    "sessions_app.sessionevent": ("view",),
    "sessions_app.message": ("view",),
    "sessions_app.customer": ("view",),
    "sessions_app.customernote": ("view",),
    "sessions_app.tag": ("view", "change", "delete"),
    "sessions_app.leftmessage": ("view", "change"),
    "sessions_app.faqentry": ("view", "add", "change", "delete"),
    "sessions_app.cannedreply": ("view", "add", "change", "delete"),
    "sessions_app.servicesettings": ("view", "change"),
    "ratings.rating": ("view",),
}

OPS_GROUP = "ops"

# The IM adapter's internal tables (robots, inbound callbacks, the outbox) are for whoever runs
# the system, not for supervisors: read-only, plus "change" on the outbox for its retry actions.
OPS_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "robots.robot": ("view",),
    "robots.inboundmessage": ("view",),
    "robots.outboundmessage": ("view", "change"),
}


# The one rule for "is a supervisor" (the live view, reports, every transcript API): an active staff
# user holding the permission to see sessions, which the supervisors' group grants. is_staff alone
# is not enough (a staff user without it, or one whose permission was withdrawn).
SUPERVISE_PERMISSION = "sessions_app.view_servicesession"


def user_may_supervise(user: AbstractBaseUser | AnonymousUser) -> bool:
    if not isinstance(user, User):
        return False  # anonymous
    return user.is_active and user.is_staff and user.has_perm(SUPERVISE_PERMISSION)


def user_id_may_supervise(user_id: int | None) -> bool:
    """The same check on a fresh copy of the user (rights may have changed since login)."""
    user = User.objects.filter(pk=user_id).first() if user_id is not None else None
    return user is not None and user_may_supervise(user)


def supervisor_permissions() -> QuerySet[Permission]:
    """The permission rows of ``SUPERVISOR_PERMISSIONS``; all of them must exist."""
    return _permissions(SUPERVISOR_PERMISSIONS)


def _permissions(table: dict[str, tuple[str, ...]]) -> QuerySet[Permission]:
    wanted = Q(pk__in=[])
    expected = 0
    for label, actions in table.items():
        app_label, model_name = label.split(".")
        apps.get_model(app_label, model_name)  # a typo in the table fails here, loudly
        codenames = [f"{action}_{model_name}" for action in actions]
        wanted |= Q(content_type__app_label=app_label, content_type__model=model_name, codename__in=codenames)
        expected += len(codenames)
    permissions = Permission.objects.filter(wanted)
    if permissions.count() != expected:
        # Permissions are created after migrations; run `migrate` first.
        raise ImproperlyConfigured(f"expected {expected} permissions, found {permissions.count()}")
    return permissions


@transaction.atomic
def supervisor_group_ensure() -> Group:
    """The supervisors' group with exactly ``SUPERVISOR_PERMISSIONS``: missing ones added, others removed."""
    group, _ = Group.objects.get_or_create(name=SUPERVISOR_GROUP)
    group.permissions.set(supervisor_permissions())
    return group


@transaction.atomic
def ops_group_ensure() -> Group:
    """The ops group with exactly ``OPS_PERMISSIONS``: missing ones added, others removed."""
    group, _ = Group.objects.get_or_create(name=OPS_GROUP)
    group.permissions.set(_permissions(OPS_PERMISSIONS))
    return group


def servicer_account_create(*, username: str, password: str) -> User:
    """A new login for a servicer (never staff); an existing login is refused, never taken over."""
    if User.objects.filter(username=username).exists():
        raise ApplicationError(gettext("This login is already taken."), code="login_taken")
    return User.objects.create_user(username=username, password=password)


def servicer_password_set(*, seat: Seat, password: str) -> None:
    """A supervisor resets a servicer's password; staff accounts are out of their reach."""
    user = seat.user
    if user.is_staff or user.is_superuser:
        raise ApplicationError(gettext("Staff passwords cannot be changed here."), code="staff_account", status=403)
    user.set_password(password)
    user.save(update_fields=["password"])


def _staff_user_in(group: Group, *, username: str, password: str) -> User:
    user, _ = User.objects.get_or_create(username=username)
    user.set_password(password)
    user.is_staff = True
    user.save(update_fields=["password", "is_staff"])
    user.groups.add(group)
    return user


@transaction.atomic
def supervisor_create(*, username: str, password: str) -> User:
    return _staff_user_in(supervisor_group_ensure(), username=username, password=password)


@transaction.atomic
def ops_user_create(*, username: str, password: str) -> User:
    """A staff login in the ops group (the IM adapter's tables), e.g. for whoever runs the servers."""
    return _staff_user_in(ops_group_ensure(), username=username, password=password)
