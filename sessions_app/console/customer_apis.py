"""The customer, remembered: the console's side panel (name, avatar, tags, notes) and the wrap-up
that ends a chat. Servicers reach the customers they serve or have served; supervisors every one."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from cs_project.api import ApiView
from seats.models import Seat
from sessions_app.console import selectors
from sessions_app.console.customer_notes import (
    customer_note_create,
    customer_note_delete,
    customer_note_update,
    customer_tag_add,
    customer_tag_remove,
)
from sessions_app.flow.customers import TAG_MAX_LENGTH
from sessions_app.flow.servicer import servicer_end_session
from sessions_app.flow.wrap_up import SUMMARY_MAX_LENGTH, WRAP_UP_TAGS_MAX, session_wrap_up
from sessions_app.models import Customer, CustomerNote, SessionWrapUp

NOTE_MAX_LENGTH = 2000


def _customer(request: Request, customer_id: int) -> Customer:
    customer = selectors.customer_known_to(user=request.user, customer_id=customer_id)
    if customer is None:
        raise Http404
    return customer


class CustomerNoteOutputSerializer(serializers.Serializer[CustomerNote]):
    id = serializers.IntegerField()
    text = serializers.CharField()
    author = serializers.CharField(source="author.display_name", allow_null=True, default=None)
    mine = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)

    def get_mine(self, note: CustomerNote) -> bool:
        seat: Seat | None = self.context.get("seat")
        return seat is not None and note.author_id == seat.pk


class CustomerNoteInputSerializer(serializers.Serializer[object]):
    text = serializers.CharField(max_length=NOTE_MAX_LENGTH)


class TagInputSerializer(serializers.Serializer[object]):
    name = serializers.CharField(max_length=TAG_MAX_LENGTH)


class CustomerTagsOutputSerializer(serializers.Serializer[object]):
    tags = serializers.ListField(child=serializers.CharField())


class CustomerCardApi(ApiView):
    """What the side panel shows of a customer: profile, tags, and notes newest first."""

    @extend_schema_serializer(component_name="CustomerCard")
    class OutputSerializer(serializers.Serializer[object]):
        id = serializers.IntegerField()
        name = serializers.CharField()
        im_user_id = serializers.CharField()
        avatar_url = serializers.CharField()
        first_contact = serializers.DateTimeField()
        tags = serializers.ListField(child=serializers.CharField())
        notes = CustomerNoteOutputSerializer(many=True)

    @extend_schema(responses=OutputSerializer, operation_id="customer_card")
    def get(self, request: Request, customer_id: int) -> Response:
        customer = _customer(request, customer_id)
        card = {
            "id": customer.pk,
            "name": str(customer),
            "im_user_id": customer.im_user_id,
            "avatar_url": customer.avatar_url,
            "first_contact": customer.created_at,
            "tags": selectors.customer_tag_names(customer=customer),
            "notes": selectors.customer_notes(customer=customer),
        }
        context = {"seat": selectors.seat_of(request.user)}
        return Response(self.OutputSerializer(card, context=context).data)


class CustomerNoteCreateApi(ApiView):
    @extend_schema(
        request=CustomerNoteInputSerializer,
        responses={201: CustomerNoteOutputSerializer},
        operation_id="customer_note_create",
    )
    def post(self, request: Request, customer_id: int) -> Response:
        seat = selectors.seat_required(request.user)
        customer = _customer(request, customer_id)
        serializer = CustomerNoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = customer_note_create(customer=customer, seat=seat, text=serializer.validated_data["text"])
        data = CustomerNoteOutputSerializer(note, context={"seat": seat}).data
        return Response(data, status=status.HTTP_201_CREATED)


class CustomerNoteUpdateApi(ApiView):
    """Change a note; only its author may."""

    @extend_schema(
        request=CustomerNoteInputSerializer, responses=CustomerNoteOutputSerializer, operation_id="customer_note_update"
    )
    def post(self, request: Request, note_id: int) -> Response:
        seat = selectors.seat_required(request.user)
        serializer = CustomerNoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = customer_note_update(note_id=note_id, seat=seat, text=serializer.validated_data["text"])
        return Response(CustomerNoteOutputSerializer(note, context={"seat": seat}).data)


class CustomerNoteDeleteApi(ApiView):
    """Delete a note; only its author may."""

    @extend_schema(request=None, responses={204: None}, operation_id="customer_note_delete")
    def post(self, request: Request, note_id: int) -> Response:
        seat = selectors.seat_required(request.user)
        customer_note_delete(note_id=note_id, seat=seat)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomerTagAddApi(ApiView):
    """Tag a customer (with a tag in use, or a new one); answers the customer's tags."""

    @extend_schema(request=TagInputSerializer, responses=CustomerTagsOutputSerializer, operation_id="customer_tag_add")
    def post(self, request: Request, customer_id: int) -> Response:
        selectors.seat_required(request.user)
        customer = _customer(request, customer_id)
        serializer = TagInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer_tag_add(customer=customer, name=serializer.validated_data["name"])
        return Response({"tags": selectors.customer_tag_names(customer=customer)})


class CustomerTagRemoveApi(ApiView):
    """Untag a customer; answers the customer's tags."""

    @extend_schema(
        request=TagInputSerializer, responses=CustomerTagsOutputSerializer, operation_id="customer_tag_remove"
    )
    def post(self, request: Request, customer_id: int) -> Response:
        selectors.seat_required(request.user)
        customer = _customer(request, customer_id)
        serializer = TagInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer_tag_remove(customer=customer, name=serializer.validated_data["name"])
        return Response({"tags": selectors.customer_tag_names(customer=customer)})


class TagListApi(ApiView):
    """Tags in use, for the autocomplete: ``?q=`` those starting with it first, then those holding it."""

    class FilterSerializer(serializers.Serializer[object]):
        q = serializers.CharField(max_length=TAG_MAX_LENGTH, required=False, allow_blank=True, default="")

    @extend_schema(
        parameters=[OpenApiParameter("q", str, required=False)],
        responses={200: {"type": "array", "items": {"type": "string"}}},
        operation_id="tag_list",
    )
    def get(self, request: Request) -> Response:
        selectors.seat_required(request.user)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return Response(selectors.tags_matching(query=filters.validated_data["q"]))


class WrapUpInputSerializer(serializers.Serializer[object]):
    tags = serializers.ListField(
        child=serializers.CharField(max_length=TAG_MAX_LENGTH, allow_blank=True),
        max_length=WRAP_UP_TAGS_MAX,
        required=False,
        default=list,
    )
    summary = serializers.CharField(max_length=SUMMARY_MAX_LENGTH, required=False, allow_blank=True, default="")


class WrapUpOutputSerializer(serializers.Serializer[SessionWrapUp]):
    session_id = serializers.IntegerField()
    summary = serializers.CharField()
    tags = serializers.SerializerMethodField()
    seat = serializers.CharField(source="seat.display_name", allow_null=True, default=None)
    written_at = serializers.DateTimeField()

    def get_tags(self, wrap_up: SessionWrapUp) -> list[str]:
        return sorted(tag.name for tag in wrap_up.tags.all())


class SessionEndApi(ApiView):
    """End a session of one's own with its wrap-up (tags and summary). Without one, refused (400,
    ``wrap_up_required``) when the settings require it; else the session ends all the same."""

    @extend_schema(request=WrapUpInputSerializer, responses={204: None}, operation_id="session_end")
    def post(self, request: Request, session_id: int) -> Response:
        seat = selectors.seat_required(request.user)
        serializer = WrapUpInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        servicer_end_session(session_id=session_id, seat=seat, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SessionWrapUpApi(ApiView):
    """Write (or rewrite) the wrap-up of a session one serves or served last, e.g. after the customer left."""

    @extend_schema(request=WrapUpInputSerializer, responses=WrapUpOutputSerializer, operation_id="session_wrap_up")
    def post(self, request: Request, session_id: int) -> Response:
        seat = selectors.seat_required(request.user)
        serializer = WrapUpInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        wrap_up = session_wrap_up(session_id=session_id, seat=seat, **serializer.validated_data)
        return Response(WrapUpOutputSerializer(wrap_up).data)
