"""Sending a message: permission checks, storage, inbox delivery and robot callbacks (§4.1, §5.1, §7.4).

Three sources send through here: a robot (``/robot/message/send``), a user's client
(``/sandbox/api/client/send``) and the admin API on behalf of a user (``/admin/message/send``,
which skips the permission checks).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Literal

from wfsandbox.body import JsonObject, SendMessageData
from wfsandbox.callbacks import CallbackDispatcher
from wfsandbox.errors import ApiError, ErrorCode
from wfsandbox.ids import MessageIdGenerator
from wfsandbox.runtime import Runtime
from wfsandbox.store import USER_TYPE_NORMAL, USER_TYPE_ROBOT, Message, Robot, Store

logger = logging.getLogger("wfsandbox.routing")

Source = Literal["robot", "user", "admin"]

CONV_PRIVATE, CONV_GROUP, CONV_CHATROOM, CONV_CHANNEL = 0, 1, 2, 3
PERSIST_TRANSPARENT = 4
# The sandbox has no groups, chatrooms or channels: a non-admin sender is never a member of one.
_NOT_MEMBER = {CONV_GROUP: ErrorCode.NOT_IN_GROUP, CONV_CHATROOM: ErrorCode.NOT_IN_CHATROOM}
_NOT_MEMBER[CONV_CHANNEL] = ErrorCode.NOT_IN_CHANNEL


def _client_may_not_send(content_type: int) -> bool:
    """Recall (80), delete (81) and group notifications (100–199) come only from the server."""
    return content_type in (80, 81) or 100 <= content_type < 200


@dataclass(frozen=True)
class SendResult:
    message_uid: int
    timestamp: int

    def to_json(self) -> JsonObject:
        return {"messageUid": self.message_uid, "timestamp": self.timestamp}


class Router:
    def __init__(self, *, store: Store, callbacks: CallbackDispatcher, runtime: Runtime) -> None:
        self._store = store
        self._callbacks = callbacks
        self._runtime = runtime
        self._ids = MessageIdGenerator(floor=store.max_message_id())

    def send(self, *, sender: str, data: SendMessageData, source: Source) -> SendResult:
        """Store and deliver one message; ``ApiError`` with the server's code when it is refused."""
        conv = data.conv
        if source != "admin":
            self._check_sender_may_send(sender, data)
        if conv.type != CONV_PRIVATE:
            if conv.type in _NOT_MEMBER:
                raise ApiError(ErrorCode.NOT_EXIST if source == "admin" else _NOT_MEMBER[conv.type])
            raise ApiError(ErrorCode.NOT_IMPLEMENT, "conversation type not implemented in the sandbox")

        message = Message(
            message_id=self._ids.next_id(),
            sender=sender,
            conv=conv,
            payload=data.payload,
            to_users=data.to_users,
            timestamp=time.time_ns() // 1_000_000,
        )
        inbox_users, robots = self._receivers(message)
        self._store.message_deliver(message, inbox_users)
        posted = self._callback_json(message) if robots else {}
        for robot in robots:
            self._callbacks.post(robot_id=robot.user_id, url=robot.callback, message=posted)
        logger.info(
            "message %d from %s (%s) to %s: type %d, persistFlag %d; inbox %s; callbacks %s",
            message.message_id,
            sender,
            source,
            conv.target,
            message.payload["type"],
            message.payload["persistFlag"],
            ",".join(inbox_users) or "-",
            ",".join(robot.user_id for robot in robots) or "-",
        )
        return SendResult(message.message_id, message.timestamp)

    def _callback_json(self, message: Message) -> JsonObject:
        """§5.3; with ``robot.callback_with_sender_info`` (newer servers), the sender's user object too."""
        posted = message.to_callback_json()
        sender = self._store.user_get(message.sender) if self._runtime.callback_with_sender_info else None
        if sender is not None:
            posted["senderUserInfo"] = sender.to_json()
        return posted

    def _receivers(self, message: Message) -> tuple[list[str], list[Robot]]:
        """§5.1: the private chat's receivers are the sender and the target. A receiver other than the
        sender that is a robot with a callback gets the callback *instead of* an inbox entry; a
        transparent message (persistFlag 4) never reaches a callback, nor the sender's own inbox.
        """
        transparent = message.payload["persistFlag"] == PERSIST_TRANSPARENT
        inbox_users: list[str] = []
        robots: list[Robot] = []
        for user_id in dict.fromkeys([message.sender, message.conv.target]):
            if user_id == message.sender:
                if not transparent:
                    inbox_users.append(user_id)
                continue
            robot = self._robot_with_callback(user_id)
            if robot is None:
                inbox_users.append(user_id)
            elif not transparent:
                robots.append(robot)
        return inbox_users, robots

    def _robot_with_callback(self, user_id: str) -> Robot | None:
        user = self._store.user_get(user_id)
        if user is None or user.type != USER_TYPE_ROBOT:
            return None
        robot = self._store.robot_get(user_id)
        return robot if robot is not None and robot.callback else None

    def _check_sender_may_send(self, sender: str, data: SendMessageData) -> None:
        """``SendMessageHandler`` for a robot or a client: forbidden content types → 251; then, for a
        private message, ``MemoryMessagesStore.isAllowUserMessage`` (below)."""
        if _client_may_not_send(data.payload["type"]):
            raise ApiError(ErrorCode.INVALID_PARAMETER)
        if data.conv.type == CONV_PRIVATE and not self._may_message(target=data.conv.target, sender=sender):
            raise ApiError(ErrorCode.NOT_RIGHT)

    def _may_message(self, *, target: str, sender: str) -> bool:
        """``isAllowUserMessage`` with ``message.disable_stranger_chat``: friends (state 0 on the
        target's side) may; so may anyone when the sender or the target is on
        ``message.allow_stranger_chat_list``, or is not a normal user (a robot, a device, an admin).
        So robots message strangers, and users message robots, on such a server too.
        """
        if not self._runtime.disable_stranger_chat or self._store.friend_state(target, sender) == 0:
            return True
        allowed = self._runtime.allow_stranger_chat_list
        if sender in allowed or target in allowed:
            return True
        return any(
            user is not None and user.type != USER_TYPE_NORMAL
            for user in (self._store.user_get(target), self._store.user_get(sender))
        )
