"""The Wildfire IM (野火IM) wire protocol, as described in ``wildfire-protocol.md``.

No Django here: signing (§2), errors (§3), the Robot and Admin API clients (§4, §6), the robot
callback body (§5.3), the data model (§7) and our customer-service control messages (§8, §9).
Section numbers in comments refer to that reference.

Modules: ``signing``, ``errors``, ``messages`` (conversations, payloads, callbacks), ``users``,
``content`` (content types and payload builders), ``clients``.
"""

from __future__ import annotations

from robots.wfprotocol._wire import CallbackFormatError, WireFormatError, loads_strict
from robots.wfprotocol.clients import AdminClient, AsyncRobotSender, RobotClient
from robots.wfprotocol.content import (
    IMAGE_SEARCHABLE_TEXT,
    TEXT_MAX_LENGTH,
    ContentType,
    CsControl,
    MediaType,
    PersistFlag,
    ServicerNotice,
    control_data,
    control_payload,
    extra_with_message_id,
    extra_without_cs,
    file_payload,
    image_payload,
    p_text_payload,
    robot_may_send,
    servicer_copy_kind,
    servicer_echo_extra,
    servicer_extra,
    servicer_notice_extra,
    text_payload,
    tip_payload,
)
from robots.wfprotocol.errors import (
    WfcApiError,
    WfcAuthError,
    WfcError,
    WfcHttpError,
    WfcNotFound,
    WfcOutcomeUnknown,
    WfcProtocolError,
    WfcRateLimited,
    WfcTransportError,
)
from robots.wfprotocol.messages import CallbackMessage, Conversation, MessagePayload, SendResult, parse_callback
from robots.wfprotocol.signing import sign, signed_headers
from robots.wfprotocol.users import ProfileField, RobotInfo, RobotUpsert, UserInfo, UserType

__all__ = [
    "IMAGE_SEARCHABLE_TEXT",
    "TEXT_MAX_LENGTH",
    "AdminClient",
    "AsyncRobotSender",
    "CallbackFormatError",
    "CallbackMessage",
    "ContentType",
    "Conversation",
    "CsControl",
    "MediaType",
    "MessagePayload",
    "PersistFlag",
    "ProfileField",
    "RobotClient",
    "RobotInfo",
    "RobotUpsert",
    "SendResult",
    "ServicerNotice",
    "UserInfo",
    "UserType",
    "WfcApiError",
    "WfcAuthError",
    "WfcError",
    "WfcHttpError",
    "WfcNotFound",
    "WfcOutcomeUnknown",
    "WfcProtocolError",
    "WfcRateLimited",
    "WfcTransportError",
    "WireFormatError",
    "control_data",
    "control_payload",
    "extra_with_message_id",
    "extra_without_cs",
    "file_payload",
    "image_payload",
    "loads_strict",
    "p_text_payload",
    "parse_callback",
    "robot_may_send",
    "servicer_copy_kind",
    "servicer_echo_extra",
    "servicer_extra",
    "servicer_notice_extra",
    "sign",
    "signed_headers",
    "text_payload",
    "tip_payload",
]
