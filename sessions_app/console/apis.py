from __future__ import annotations

from django.db.models import Prefetch
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from cs_project.api import ApiView
from seats.authentication import SeatTokenAuthentication, request_by_token
from sessions_app.console import selectors
from sessions_app.console.attachments import attachment_send
from sessions_app.console.canned import canned_reply_create, canned_reply_delete, canned_reply_update
from sessions_app.flow.left_messages import left_message_answer, left_message_handle
from sessions_app.flow.queue import queue_list, queue_take, queue_take_next
from sessions_app.models import CannedReply


class PagePagination(PageNumberPagination):
    """Pages of 20 (``page_size`` up to 100): the history and the left messages."""

    page_size = 20
    max_page_size = 100
    page_size_query_param = "page_size"


# The reads a servicer's own client may make with an API token (docs/client-protocol.md); the token
# first, so that a request without credentials is answered 401 with ``WWW-Authenticate: Token``.
TOKEN_OR_LOGIN = [SeatTokenAuthentication, SessionAuthentication]


class MessageOutputSerializer(serializers.Serializer[object]):
    seq = serializers.IntegerField()
    direction = serializers.CharField()
    author = serializers.CharField()
    content_type = serializers.IntegerField()
    payload = serializers.JSONField()
    # As a string: JavaScript numbers lose precision above 2^53.
    im_message_id = serializers.CharField(allow_null=True)
    server_timestamp = serializers.IntegerField()


class CustomerHistoryApi(ApiView):
    """A customer's sessions, newest first, each with its transcript (paginated by session)."""

    authentication_classes = TOKEN_OR_LOGIN

    class OutputSerializer(serializers.Serializer[object]):
        id = serializers.IntegerField()
        state = serializers.CharField()
        seat = serializers.CharField(source="seat.display_name", allow_null=True, default=None)
        opened_at = serializers.DateTimeField()
        closed_at = serializers.DateTimeField(allow_null=True)
        close_reason = serializers.CharField()
        messages = MessageOutputSerializer(many=True, source="messages.all")

    @extend_schema(responses=OutputSerializer(many=True), operation_id="customer_history")
    def get(self, request: Request, customer_id: int) -> Response:
        customer = selectors.customer_visible_to(
            user=request.user, customer_id=customer_id, supervising=not request_by_token(request)
        )
        if customer is None:
            raise Http404
        paginator = PagePagination()
        page = paginator.paginate_queryset(
            selectors.customer_history(customer=customer).prefetch_related(
                Prefetch("messages", queryset=selectors.customer_facing_messages())
            ),
            request,
            view=self,
        )
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class ConsoleSessionListApi(ApiView):
    """The servicer's sessions in progress, for the console's list."""

    authentication_classes = TOKEN_OR_LOGIN

    @extend_schema_serializer(component_name="ConsoleSession")
    class OutputSerializer(serializers.Serializer[object]):
        id = serializers.IntegerField()
        customer_id = serializers.IntegerField()
        customer_name = serializers.CharField()
        customer_avatar = serializers.CharField()
        customer_im_user_id = serializers.CharField()
        opened_at = serializers.CharField()
        assigned_at = serializers.CharField(allow_null=True)
        last_seq = serializers.IntegerField()
        last_customer_message_at = serializers.IntegerField(allow_null=True)
        last_servicer_message_at = serializers.IntegerField(allow_null=True)
        transfer_note = serializers.CharField()
        transferred_from = serializers.CharField()

    @extend_schema(responses=OutputSerializer(many=True), operation_id="console_sessions")
    def get(self, request: Request) -> Response:
        seat = selectors.seat_required(request.user)
        return Response(self.OutputSerializer(selectors.console_sessions(seat=seat), many=True).data)


class SessionMessageListApi(ApiView):
    """A session's messages after a sequence number: what a console missed while disconnected."""

    authentication_classes = TOKEN_OR_LOGIN

    class FilterSerializer(serializers.Serializer[object]):
        after_seq = serializers.IntegerField(min_value=0, default=0)
        limit = serializers.IntegerField(min_value=1, max_value=500, default=200)

    @extend_schema_serializer(component_name="SessionMessages")
    class OutputSerializer(serializers.Serializer[object]):
        session_id = serializers.IntegerField()
        last_seq = serializers.IntegerField()
        messages = MessageOutputSerializer(many=True)

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer, operation_id="session_messages")
    def get(self, request: Request, session_id: int) -> Response:
        session = selectors.session_visible_to(
            user=request.user, session_id=session_id, supervising=not request_by_token(request)
        )
        if session is None:
            raise Http404
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        seat = selectors.seat_of(request.user)
        messages = selectors.messages_after(
            session_id=session.pk,
            after_seq=filters.validated_data["after_seq"],
            limit=filters.validated_data["limit"],
            seat_id=seat.pk if seat is not None else None,
        )
        body = {"session_id": session.pk, "last_seq": session.last_seq, "messages": messages}
        return Response(self.OutputSerializer(body).data)


class SessionAttachmentApi(ApiView):
    """Send an image or a file to the customer (multipart field ``file``)."""

    parser_classes = [MultiPartParser]

    @extend_schema_serializer(component_name="SessionAttachment")
    class InputSerializer(serializers.Serializer[object]):
        file = serializers.FileField(allow_empty_file=False)

    @extend_schema(request=InputSerializer, responses={201: MessageOutputSerializer}, operation_id="session_attach")
    def post(self, request: Request, session_id: int) -> Response:
        seat = selectors.seat_required(request.user)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = attachment_send(session_id=session_id, seat=seat, upload=serializer.validated_data["file"])
        return Response(MessageOutputSerializer(message).data, status=status.HTTP_201_CREATED)


class CannedReplyOutputSerializer(serializers.Serializer[object]):
    id = serializers.IntegerField()
    shortcut = serializers.CharField()
    text = serializers.CharField()
    personal = serializers.SerializerMethodField()

    def get_personal(self, reply: CannedReply) -> bool:
        return reply.owner_id is not None


class CannedReplyInputSerializer(serializers.Serializer[object]):
    shortcut = serializers.SlugField(max_length=32, allow_unicode=True)
    text = serializers.CharField(max_length=2000)


class CannedReplyListApi(ApiView):
    """The global canned replies and the servicer's own."""

    @extend_schema(responses=CannedReplyOutputSerializer(many=True), operation_id="canned_reply_list")
    def get(self, request: Request) -> Response:
        seat = selectors.seat_required(request.user)
        return Response(CannedReplyOutputSerializer(selectors.canned_replies_for(seat=seat), many=True).data)


class CannedReplyCreateApi(ApiView):
    @extend_schema(
        request=CannedReplyInputSerializer,
        responses={201: CannedReplyOutputSerializer},
        operation_id="canned_reply_create",
    )
    def post(self, request: Request) -> Response:
        seat = selectors.seat_required(request.user)
        serializer = CannedReplyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reply = canned_reply_create(seat=seat, **serializer.validated_data)
        return Response(CannedReplyOutputSerializer(reply).data, status=status.HTTP_201_CREATED)


class CannedReplyUpdateApi(ApiView):
    @extend_schema(
        request=CannedReplyInputSerializer, responses=CannedReplyOutputSerializer, operation_id="canned_reply_update"
    )
    def post(self, request: Request, reply_id: int) -> Response:
        seat = selectors.seat_required(request.user)
        serializer = CannedReplyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reply = canned_reply_update(seat=seat, reply_id=reply_id, **serializer.validated_data)
        return Response(CannedReplyOutputSerializer(reply).data)


class CannedReplyDeleteApi(ApiView):
    @extend_schema(request=None, responses={204: None}, operation_id="canned_reply_delete")
    def post(self, request: Request, reply_id: int) -> Response:
        seat = selectors.seat_required(request.user)
        canned_reply_delete(seat=seat, reply_id=reply_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LeftMessageOutputSerializer(serializers.Serializer[object]):
    id = serializers.IntegerField()
    customer_id = serializers.IntegerField()
    customer_name = serializers.CharField(source="customer")  # the display name, else the IM id
    customer_avatar = serializers.CharField(source="customer.avatar_url")
    customer_im_user_id = serializers.CharField(source="customer.im_user_id")
    text = serializers.CharField()
    created_at = serializers.DateTimeField()
    handled_at = serializers.DateTimeField(allow_null=True)
    handled_by = serializers.CharField(source="handled_by.display_name", allow_null=True, default=None)


class LeftMessageListApi(ApiView):
    """Left messages nobody has handled yet, oldest first (paginated): the same list for every servicer."""

    pagination_class = PagePagination  # read by drf-spectacular, for the paginated schema

    @extend_schema(responses=LeftMessageOutputSerializer(many=True), operation_id="left_message_list")
    def get(self, request: Request) -> Response:
        selectors.seat_required(request.user)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.left_messages_unhandled(), request, view=self)
        return paginator.get_paginated_response(LeftMessageOutputSerializer(page, many=True).data)


class LeftMessageHandleApi(ApiView):
    """Mark a left message handled by this servicer; 409 when someone else already did."""

    @extend_schema(request=None, responses=LeftMessageOutputSerializer, operation_id="left_message_handle")
    def post(self, request: Request, message_id: int) -> Response:
        seat = selectors.seat_required(request.user)
        message = left_message_handle(message_id=message_id, seat=seat)
        return Response(LeftMessageOutputSerializer(message).data)


class LeftMessageAnswerApi(ApiView):
    """Answer a left message: the customer receives it from the CS Robot, the transcript keeps it,
    and the message is handled by this servicer. 400 when empty or too long; 409 when another
    servicer handled it first."""

    @extend_schema_serializer(component_name="LeftMessageAnswerInput")
    class InputSerializer(serializers.Serializer[object]):
        # The length is checked by the service (the one limit, with a translated reason).
        text = serializers.CharField(allow_blank=True, trim_whitespace=False)

    @extend_schema_serializer(component_name="LeftMessageAnswer")
    class OutputSerializer(serializers.Serializer[object]):
        left_message = LeftMessageOutputSerializer()
        answer = MessageOutputSerializer()

    @extend_schema(request=InputSerializer, responses=OutputSerializer, operation_id="left_message_answer")
    def post(self, request: Request, message_id: int) -> Response:
        seat = selectors.seat_required(request.user)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        answer = left_message_answer(message_id=message_id, seat=seat, text=serializer.validated_data["text"])
        left = selectors.left_message_get(message_id=message_id)
        return Response(self.OutputSerializer({"left_message": left, "answer": answer}).data)


class QueueEntryOutputSerializer(serializers.Serializer[object]):
    session_id = serializers.IntegerField()
    position = serializers.IntegerField()
    customer_id = serializers.IntegerField()
    customer_name = serializers.CharField()
    customer_avatar = serializers.CharField()
    queued_at = serializers.DateTimeField()
    waiting_seconds = serializers.IntegerField()
    first_message = serializers.CharField()
    skill_group_id = serializers.IntegerField(allow_null=True)
    skill_group = serializers.CharField(help_text="The skill group the customer chose; empty: none.")
    may_take = serializers.BooleanField(
        help_text="The caller's seat serves this customer by the group rules (no group, one of the seat's groups,"
        " or overflowed): take-next may give them to it. A chosen customer may be taken either way."
    )
    may_take_in_seconds = serializers.IntegerField(
        allow_null=True,
        help_text="When may_take is false: the seconds until the customer's group overflows and any seat may take"
        " them; null: not before a seat of the group does.",
    )


class QueueTakenOutputSerializer(serializers.Serializer[object]):
    session_id = serializers.IntegerField(source="pk")
    customer_id = serializers.IntegerField()
    customer_name = serializers.CharField(source="customer")


class ConsoleQueueApi(ApiView):
    """Every queued customer, oldest first: position, waiting time, first message, skill group and
    whether the caller's seat serves them by the group rules."""

    @extend_schema(responses=QueueEntryOutputSerializer(many=True), operation_id="console_queue")
    def get(self, request: Request) -> Response:
        seat = selectors.seat_required(request.user)
        return Response(QueueEntryOutputSerializer(queue_list(seat=seat), many=True).data)


class ConsoleQueueTakeNextApi(ApiView):
    """Take the customer who has waited longest; 409 with a reason when the queue is empty, the
    servicer is not online or has no room."""

    @extend_schema(request=None, responses=QueueTakenOutputSerializer, operation_id="console_queue_take_next")
    def post(self, request: Request) -> Response:
        seat = selectors.seat_required(request.user)
        return Response(QueueTakenOutputSerializer(queue_take_next(seat=seat)).data)


class ConsoleQueueTakeApi(ApiView):
    """Take this queued customer; 409 when someone else took them first (or as for take-next)."""

    @extend_schema(request=None, responses=QueueTakenOutputSerializer, operation_id="console_queue_take")
    def post(self, request: Request, session_id: int) -> Response:
        seat = selectors.seat_required(request.user)
        return Response(QueueTakenOutputSerializer(queue_take(seat=seat, session_id=session_id)).data)


class TransferTargetListApi(ApiView):
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
