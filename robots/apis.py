from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from robots.callbacks import MAX_BODY_BYTES, CallbackRejected, callback_accept


class RobotCallbackApi(APIView):
    """The IM server posts a robot's messages here (unsigned; the ``k`` token authenticates)."""

    authentication_classes = ()
    permission_classes = ()
    # Never throttled: the IM server posts every customer's messages from its one address over at
    # most 5 connections (§5.2), and a callback refused with 429 is a customer message dropped.
    throttle_classes = ()
    # The body is read raw and parsed by the protocol module, strictly, with ints kept exact.
    parser_classes = ()

    @extend_schema(
        operation_id="robot_callback",
        parameters=[OpenApiParameter("k", str, OpenApiParameter.QUERY, required=True, description="callback token")],
        request={"application/json": {"type": "object"}},
        responses={
            200: inline_serializer(
                "CallbackAccepted", {"status": serializers.CharField(), "messageId": serializers.CharField()}
            ),
            400: inline_serializer("CallbackError", {"error": serializers.CharField()}),
        },
    )
    def post(self, request: Request, robot_id: str) -> Response:
        declared_length = request.META.get("CONTENT_LENGTH") or "0"
        if not declared_length.isdigit() or int(declared_length) > MAX_BODY_BYTES:
            return Response({"error": f"body larger than {MAX_BODY_BYTES} bytes"}, status=413)
        try:
            outcome = callback_accept(robot_id=robot_id, token=request.query_params.get("k", ""), body=request.body)
        except CallbackRejected as rejected:
            return Response({"error": rejected.reason}, status=rejected.status)
        # The id as a string too: JavaScript readers would lose precision above 2^53.
        return Response({"status": outcome.status, "messageId": str(outcome.message_id)})
