from __future__ import annotations

from typing import ClassVar

from django.db import models


class CallbackRow(models.Model):
    """What the baseline view stores: the fields a callback receiver keeps."""

    message_id = models.BigIntegerField()
    sender = models.CharField(max_length=64)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)

    # Declared for the type checker: the baseline app is not in the project's INSTALLED_APPS.
    objects: ClassVar[models.Manager[CallbackRow]] = models.Manager()

    def __str__(self) -> str:
        return str(self.message_id)
