"""A servicer's own API tokens, from the console (a browser login with CSRF; a token cannot mint tokens)."""

from __future__ import annotations

from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response

from cs_project.api import ApiView
from cs_project.errors import ApplicationError
from seats.api_tokens import api_token_issue, api_token_revoke, api_tokens_active
from seats.models import Seat


def _own_seat(request: Request) -> Seat:
    user_id = request.user.pk if request.user is not None else None
    seat = Seat.objects.filter(user_id=user_id).first() if user_id is not None else None
    if seat is None:
        raise ApplicationError(gettext("Only servicers with a seat can do this."), code="no_seat", status=403)
    return seat


@extend_schema_serializer(component_name="ApiToken")
class ApiTokenOutputSerializer(serializers.Serializer[object]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)


class ApiTokenListApi(ApiView):
    """The servicer's tokens in force, newest first (their prefixes; the keys are never shown again)."""

    authentication_classes = [SessionAuthentication]

    @extend_schema(responses=ApiTokenOutputSerializer(many=True), operation_id="api_token_list")
    def get(self, request: Request) -> Response:
        return Response(ApiTokenOutputSerializer(api_tokens_active(seat=_own_seat(request)), many=True).data)


class ApiTokenCreateApi(ApiView):
    """Issue a token; the answer carries its key, the only time it is shown."""

    authentication_classes = [SessionAuthentication]

    class InputSerializer(serializers.Serializer[object]):
        name = serializers.CharField(max_length=64, allow_blank=True, default="")

    @extend_schema_serializer(component_name="ApiTokenIssued")
    class OutputSerializer(ApiTokenOutputSerializer):
        key = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer}, operation_id="api_token_create")
    def post(self, request: Request) -> Response:
        seat = _own_seat(request)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = api_token_issue(seat=seat, name=serializer.validated_data["name"])
        body = {**ApiTokenOutputSerializer(issued.token).data, "key": issued.key}
        response = Response(self.OutputSerializer(body).data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response


class ApiTokenRevokeApi(ApiView):
    """Revoke one of the servicer's tokens: requests with it are refused from now on."""

    authentication_classes = [SessionAuthentication]

    @extend_schema(request=None, responses={204: None}, operation_id="api_token_revoke")
    def post(self, request: Request, token_id: int) -> Response:
        api_token_revoke(seat=_own_seat(request), token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
