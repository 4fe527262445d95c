from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bench.baseline.models import CallbackRow


@csrf_exempt
@require_POST
def callback_store(request: HttpRequest, robot_id: str) -> HttpResponse:
    """Parse a callback-shaped body and insert one row: nothing more."""
    try:
        body = json.loads(request.body)
        row = CallbackRow.objects.create(
            message_id=int(body["messageId"]), sender=str(body["sender"]), payload=body["payload"]
        )
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": "bad body"}, status=400)
    return JsonResponse({"status": "accepted", "messageId": str(row.message_id)})
