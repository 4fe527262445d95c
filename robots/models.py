from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _


def new_callback_token() -> str:
    return secrets.token_urlsafe(32)


class Robot(models.Model):
    """An IM robot whose callback points at us: the CS Robot, or a customer's shadow."""

    class Kind(models.TextChoices):
        CS = "cs", _("CS Robot")
        SHADOW = "shadow", _("Customer shadow")

    robot_id = models.CharField(_("robot id"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # The robot's own secret on the IM server (signs robot API calls). Never shown or logged.
    secret = models.CharField(_("robot secret"), max_length=128, blank=True, editable=False)
    # Authenticates the IM server's unsigned callbacks: it travels in the callback URL's query.
    callback_token = models.CharField(max_length=64, default=new_callback_token, editable=False)
    # For a shadow: the IM user it stands for (a customer). The flow above finds a customer's
    # shadow by it; the adapter's models point at nothing of the floors above.
    shadow_of = models.CharField(_("shadow of IM user"), max_length=64, unique=True, null=True, blank=True)
    provisioned_at = models.DateTimeField(_("provisioned at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("robot")
        verbose_name_plural = _("robots")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="cs", shadow_of__isnull=True)
                | models.Q(kind="shadow", shadow_of__isnull=False),
                name="robot_shadow_stands_for_a_user",
            ),
        ]

    def __str__(self) -> str:
        return self.robot_id


class InboundMessage(models.Model):
    """Every callback body we accepted, stored before it is acted on (idempotent on the IM id)."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Failed (gave up)")

    robot = models.ForeignKey(Robot, on_delete=models.CASCADE, related_name="inbound_messages")
    message_id = models.BigIntegerField(_("IM message id"))
    sender = models.CharField(_("sender"), max_length=64)
    conv_type = models.IntegerField()
    conv_target = models.CharField(max_length=64)
    conv_line = models.IntegerField(default=0)
    payload = models.JSONField(_("payload"))
    server_timestamp = models.BigIntegerField(_("server time (ms)"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(_("last error"), blank=True)
    # After a failed attempt: not acted on again, nor anything after it in its conversation, before this.
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)

    class Meta:
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")
        constraints = [
            models.UniqueConstraint(fields=["robot", "message_id"], name="inbound_unique_per_robot"),
        ]
        indexes = [
            models.Index(fields=["state", "received_at"], name="inbound_state_idx"),
            # A conversation's pending messages, oldest first: what a worker drains (robots.callbacks).
            models.Index(
                fields=["robot", "sender", "server_timestamp"],
                condition=models.Q(state="pending"),
                name="inbound_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.robot_id}:{self.message_id}"


class OutboundMessage(models.Model):
    """The outbox: every message we send to the IM server, written with the change that caused it.

    Rows with the same ``ordering_key`` (one IM conversation) are delivered strictly in ``id``
    order by the Celery deliverer; see robots/outbox.py.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    class SenderKind(models.TextChoices):
        CS_ROBOT = "cs_robot", _("CS Robot")
        SHADOW = "shadow", _("Customer shadow")

    ordering_key = models.CharField(max_length=160)
    sender_kind = models.CharField(max_length=16, choices=SenderKind.choices)
    # For shadow sends: the IM user whose shadow speaks (it is provisioned before the first send).
    shadow_of = models.CharField(max_length=64, blank=True)
    target_user_id = models.CharField(_("to user"), max_length=64)
    # A shadow's first message to a servicer: befriend them first if CS_BEFRIEND_SHADOWS is on.
    befriend_first = models.BooleanField(default=False)
    conv_line = models.IntegerField(default=0)
    payload = models.JSONField(_("payload"))
    # The flow's own id for what this send delivers (a transcript message), handed back to it
    # with the IM message id once sent (robots.handlers).
    reference = models.BigIntegerField(null=True, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), auto_now_add=True)
    # Claimed by a deliverer until then; a crashed worker's claim simply expires.
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    im_message_uid = models.BigIntegerField(_("IM message id"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbound message")
        verbose_name_plural = _("outbound messages")
        indexes = [
            models.Index(fields=["ordering_key", "id"], condition=models.Q(state="pending"), name="outbox_pending_idx"),
            models.Index(fields=["state", "next_attempt_at"], name="outbox_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.ordering_key}#{self.pk}"
