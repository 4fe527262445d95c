"""The console's search, its list of recently ended sessions and their transcripts (DRF, thin)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from cs_project.api import ApiView
from sessions_app.console import search, selectors
from sessions_app.console.apis import MessageOutputSerializer


class ConsoleSearchApi(ApiView):
    """The servicer's own customers and messages (of their sessions, open or ended) matching ``q``.

    Queries of one or two characters are looked for in the servicer's 50 most recent sessions only
    (``scope`` is then ``"recent"``)."""

    class FilterSerializer(serializers.Serializer[object]):
        q = serializers.CharField(max_length=search.QUERY_MAX_CHARS, trim_whitespace=True)

    @extend_schema_serializer(component_name="ConsoleSearchResult")
    class OutputSerializer(serializers.Serializer[object]):
        class CustomerSerializer(serializers.Serializer[object]):
            customer_id = serializers.IntegerField()
            customer_name = serializers.CharField()
            customer_avatar = serializers.CharField()
            customer_im_user_id = serializers.CharField()
            session_id = serializers.IntegerField()
            session_state = serializers.CharField()

        class MessageSerializer(serializers.Serializer[object]):
            session_id = serializers.IntegerField()
            session_state = serializers.CharField()
            customer_id = serializers.IntegerField()
            customer_name = serializers.CharField()
            seq = serializers.IntegerField()
            author = serializers.CharField()
            text = serializers.CharField()
            server_timestamp = serializers.IntegerField()

        query = serializers.CharField()
        scope = serializers.ChoiceField(choices=["all", "recent"])
        customers = CustomerSerializer(many=True)
        messages = MessageSerializer(many=True)

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer, operation_id="console_search")
    def get(self, request: Request) -> Response:
        seat = selectors.seat_required(request.user)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        result = search.console_search(seat=seat, query=filters.validated_data["q"])
        return Response(self.OutputSerializer(result).data)


@extend_schema_serializer(component_name="EndedSession")
class EndedSessionOutputSerializer(serializers.Serializer[object]):
    id = serializers.IntegerField()
    customer_id = serializers.IntegerField()
    customer_name = serializers.CharField(source="customer")  # the display name, else the IM id
    customer_avatar = serializers.CharField(source="customer.avatar_url")
    state = serializers.CharField()
    opened_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    close_reason = serializers.CharField()


class ConsoleEndedSessionListApi(ApiView):
    """The servicer's most recently ended sessions (30), read-only."""

    @extend_schema(responses=EndedSessionOutputSerializer(many=True), operation_id="console_ended_sessions")
    def get(self, request: Request) -> Response:
        seat = selectors.seat_required(request.user)
        return Response(EndedSessionOutputSerializer(search.ended_sessions(seat=seat), many=True).data)


class ConsoleTranscriptApi(ApiView):
    """The whole transcript of one of the servicer's own sessions, open or ended; 404 for others'."""

    @extend_schema_serializer(component_name="ConsoleTranscript")
    class OutputSerializer(EndedSessionOutputSerializer):
        messages = MessageOutputSerializer(many=True)

    @extend_schema(responses=OutputSerializer, operation_id="console_transcript")
    def get(self, request: Request, session_id: int) -> Response:
        seat = selectors.seat_required(request.user)
        session = search.own_session(seat=seat, session_id=session_id)
        messages = search.transcript_messages(session=session)
        return Response(
            {
                **EndedSessionOutputSerializer(session).data,
                "messages": MessageOutputSerializer(messages, many=True).data,
            }
        )
