"""Conversations, message payloads, send results and the robot callback body (§5.3, §7.1, §7.2)."""

from __future__ import annotations

from dataclasses import dataclass

from robots.wfprotocol._wire import CallbackFormatError, WireFormatError, WireObject


@dataclass(frozen=True)
class Conversation:
    """§7.1: ``type`` 0 private, 1 group, 2 chatroom, 3 channel, 4 things, 5 secret chat."""

    type: int
    target: str
    line: int = 0

    def to_wire(self) -> dict[str, object]:
        return {"type": self.type, "target": self.target, "line": self.line}

    @classmethod
    def from_wire(cls, value: object, path: str = "conv") -> Conversation:
        wire = WireObject(value, path)
        # §7.1: line defaults to 0 (Gson reads a missing int as 0, §1).
        return cls(type=wire.req_int("type"), target=wire.req_str("target", non_empty=True), line=wire.opt_int("line"))


@dataclass(frozen=True)
class MessagePayload:
    """§7.2, with the server API's field names on the wire (``base64edData``, ``mentionedTarget``)."""

    type: int
    searchable_content: str = ""
    push_content: str = ""
    push_data: str = ""
    content: str = ""
    base64ed_data: str = ""
    media_type: int = 0
    remote_media_url: str = ""
    persist_flag: int = 3
    expire_duration: int = 0
    mentioned_type: int = 0
    mentioned_target: tuple[str, ...] = ()
    extra: str = ""

    def to_wire(self) -> dict[str, object]:
        """The compact form for sends and storage: ``type`` and ``persistFlag`` always, the rest
        only when set. The server reads a missing key as ""/0 (§1), and the §7.5 recipes omit
        them the same way. ``persistFlag`` is always sent because missing would mean 0 (§7.4).
        """
        wire: dict[str, object] = {"type": self.type}
        strings = (
            ("searchableContent", self.searchable_content),
            ("pushContent", self.push_content),
            ("pushData", self.push_data),
            ("content", self.content),
            ("base64edData", self.base64ed_data),
        )
        wire.update((key, value) for key, value in strings if value)
        if self.media_type:
            wire["mediaType"] = self.media_type
        if self.remote_media_url:
            wire["remoteMediaUrl"] = self.remote_media_url
        wire["persistFlag"] = self.persist_flag
        if self.expire_duration:
            wire["expireDuration"] = self.expire_duration
        if self.mentioned_type:
            wire["mentionedType"] = self.mentioned_type
        if self.mentioned_target:
            wire["mentionedTarget"] = list(self.mentioned_target)
        if self.extra:
            wire["extra"] = self.extra
        return wire

    def to_callback_wire(self) -> dict[str, object]:
        """The full form the IM server posts to robots (§5.3): every protobuf string present
        (possibly ""), ``base64edData`` only when there is binary data.
        """
        wire: dict[str, object] = {
            "type": self.type,
            "searchableContent": self.searchable_content,
            "pushContent": self.push_content,
            "pushData": self.push_data,
            "content": self.content,
        }
        if self.base64ed_data:
            wire["base64edData"] = self.base64ed_data
        wire.update(
            mediaType=self.media_type,
            remoteMediaUrl=self.remote_media_url,
            persistFlag=self.persist_flag,
            expireDuration=self.expire_duration,
            mentionedType=self.mentioned_type,
            mentionedTarget=list(self.mentioned_target),
            extra=self.extra,
        )
        return wire

    @classmethod
    def from_wire(cls, value: object, path: str = "payload") -> MessagePayload:
        """Parse either form. Absent fields take the server's reading of them (§1): "" and 0,
        so an absent ``persistFlag`` is 0 (not the constructor's default 3).
        """
        wire = WireObject(value, path)
        return cls(
            type=wire.req_int("type"),
            searchable_content=wire.opt_str("searchableContent"),
            push_content=wire.opt_str("pushContent"),
            push_data=wire.opt_str("pushData"),
            content=wire.opt_str("content"),
            base64ed_data=wire.opt_str("base64edData"),
            media_type=wire.opt_int("mediaType"),
            remote_media_url=wire.opt_str("remoteMediaUrl"),
            persist_flag=wire.opt_int("persistFlag"),
            expire_duration=wire.opt_int("expireDuration"),
            mentioned_type=wire.opt_int("mentionedType"),
            mentioned_target=wire.opt_str_tuple("mentionedTarget"),
            extra=wire.opt_str("extra"),
        )


@dataclass(frozen=True)
class SendResult:
    """§4.1, §6: ``{messageUid, timestamp}``; the uid is the id callbacks call ``messageId``."""

    message_uid: int
    timestamp: int

    @classmethod
    def from_wire(cls, value: object) -> SendResult:
        wire = WireObject(value)
        # §5.3, §11.11: message ids exceed 2^53; json keeps them exact, floats are refused.
        return cls(message_uid=wire.req_int("messageUid", int64=True), timestamp=wire.req_int("timestamp", int64=True))


@dataclass(frozen=True)
class CallbackMessage:
    """§5.3: one message the IM server posts to a robot's callback URL.

    In a private chat ``conv.target`` is the robot itself: reply to ``sender`` on ``conv.line``.
    """

    message_id: int
    sender: str
    conv: Conversation
    payload: MessagePayload
    to_users: tuple[str, ...]
    timestamp: int
    client: dict[str, object] | None = None
    # §5.3, §7.6: the sender's user type (1: a robot), from ``senderUserInfo``, which only newer
    # servers with ``robot.callback_with_sender_info true`` send; None without it.
    sender_type: int | None = None

    def reply_conversation(self) -> Conversation:
        """§5.3, §11.5: where a reply goes: the sender in a private chat, the group otherwise."""
        if self.conv.type == 0:
            return Conversation(type=0, target=self.sender, line=self.conv.line)
        return self.conv

    def to_wire(self) -> dict[str, object]:
        """The body as the IM server sends it (§5.3), for fakes and tests."""
        wire: dict[str, object] = {
            "messageId": self.message_id,
            "sender": self.sender,
            "conv": self.conv.to_wire(),
            "payload": self.payload.to_callback_wire(),
            "toUsers": list(self.to_users),
            "timestamp": self.timestamp,
        }
        if self.client is not None:
            wire["client"] = dict(self.client)
        if self.sender_type is not None:
            wire["senderUserInfo"] = {"userId": self.sender, "type": self.sender_type}
        return wire


def parse_callback(body: object) -> CallbackMessage:
    """§5.3: validate a decoded callback body strictly.

    Raises ``CallbackFormatError`` naming the wire field (``payload.persistFlag``). Of the keys newer
    servers add, ``senderUserInfo`` is read for its ``type`` (a user object, §7.6; an absent ``type``
    is 0, as Gson writes every int); the others (``targetUserInfo``, ``toRobotId`` ...) are ignored.
    """
    try:
        wire = WireObject(body)
        sender_info = wire.opt_dict("senderUserInfo")
        return CallbackMessage(
            message_id=wire.req_int("messageId", int64=True),
            sender=wire.req_str("sender", non_empty=True),
            conv=Conversation.from_wire(wire.req_value("conv"), "conv"),
            payload=MessagePayload.from_wire(wire.req_value("payload"), "payload"),
            # Gson omits a null list (§3), so no toUsers means "no restriction".
            to_users=wire.opt_str_tuple("toUsers"),
            timestamp=wire.req_int("timestamp", int64=True),
            # §5.3: only with robot.callback_with_client_info; {platform, clientId}.
            client=wire.opt_dict("client"),
            sender_type=None if sender_info is None else WireObject(sender_info, "senderUserInfo").opt_int("type"),
        )
    except WireFormatError as exc:
        raise CallbackFormatError(exc.field, exc.reason) from None
