from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sessions_app import selectors


class TransferTargetListApi(APIView):
    """Seats a servicer may transfer a session to now: online, with room, not their own."""

    @extend_schema_serializer(component_name="TransferTarget")
    class OutputSerializer(serializers.Serializer[object]):
        id = serializers.IntegerField()
        display_name = serializers.CharField()
        avatar_url = serializers.CharField()
        active_sessions = serializers.IntegerField()
        capacity = serializers.IntegerField()

    @extend_schema(responses=OutputSerializer(many=True), operation_id="transfer_targets")
    def get(self, request: Request) -> Response:
        seat = selectors.seat_required(request.user)
        return Response(self.OutputSerializer(selectors.transfer_targets(seat=seat), many=True).data)
