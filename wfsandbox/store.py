"""Persistence in one SQLite file: users, robots, friendships, messages and per-user inboxes.

Calls are synchronous and quick (a local file, one writer), so the event loop calls them directly.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from wfsandbox.body import Conversation, JsonObject

USER_TYPE_NORMAL, USER_TYPE_ROBOT, USER_TYPE_DEVICE, USER_TYPE_ADMIN, USER_TYPE_SUPER_ADMIN = 0, 1, 2, 3, 100

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    uid TEXT PRIMARY KEY, name TEXT NOT NULL, display_name TEXT NOT NULL, portrait TEXT NOT NULL,
    gender INTEGER NOT NULL, mobile TEXT NOT NULL, email TEXT NOT NULL, address TEXT NOT NULL,
    company TEXT NOT NULL, social TEXT NOT NULL, extra TEXT NOT NULL, type INTEGER NOT NULL,
    update_dt INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS users_name ON users (name);
CREATE INDEX IF NOT EXISTS users_mobile ON users (mobile);
CREATE TABLE IF NOT EXISTS robots (
    uid TEXT PRIMARY KEY, owner TEXT NOT NULL, secret TEXT NOT NULL, callback TEXT NOT NULL,
    state INTEGER NOT NULL, extra TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS friends (
    user_id TEXT NOT NULL, friend_uid TEXT NOT NULL, state INTEGER NOT NULL, extra TEXT NOT NULL,
    timestamp INTEGER NOT NULL, PRIMARY KEY (user_id, friend_uid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY, sender TEXT NOT NULL, conv_type INTEGER NOT NULL, conv_target TEXT NOT NULL,
    conv_line INTEGER NOT NULL, payload TEXT NOT NULL, to_users TEXT NOT NULL, timestamp INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS inbox (
    user_id TEXT NOT NULL, message_id INTEGER NOT NULL, PRIMARY KEY (user_id, message_id)
) WITHOUT ROWID;
"""


class NameTaken(Exception):
    """The user name belongs to another user id."""


@dataclass(frozen=True)
class User:
    """``InputOutputUserInfo`` (§7.6) without the password."""

    user_id: str
    name: str
    display_name: str = ""
    portrait: str = ""
    gender: int = 0
    mobile: str = ""
    email: str = ""
    address: str = ""
    company: str = ""
    social: str = ""
    extra: str = ""
    type: int = USER_TYPE_NORMAL
    update_dt: int = 0

    def to_json(self, *, with_type: bool = True) -> JsonObject:
        out: JsonObject = {
            "userId": self.user_id,
            "name": self.name,
            "displayName": self.display_name,
            "portrait": self.portrait,
            "gender": self.gender,
            "mobile": self.mobile,
            "email": self.email,
            "address": self.address,
            "company": self.company,
            "social": self.social,
            "extra": self.extra,
        }
        if with_type:
            out["type"] = self.type
        out["updateDt"] = self.update_dt
        return out


_STRING_FIELDS = frozenset(
    {"name", "display_name", "portrait", "mobile", "email", "address", "company", "social", "extra"}
)


def user_changed(
    user: User, *, update_dt: int, strings: Mapping[str, str] | None = None, gender: int | None = None
) -> User:
    """A copy of ``user`` with some string fields (by attribute name) and/or the gender replaced."""
    values = asdict(user)
    for key, value in (strings or {}).items():
        if key not in _STRING_FIELDS:
            raise KeyError(key)
        values[key] = value
    if gender is not None:
        values["gender"] = gender
    values["update_dt"] = update_dt
    return User(**values)


@dataclass(frozen=True)
class Robot:
    user_id: str
    owner: str
    secret: str
    callback: str
    state: int
    extra: str

    def to_json(self, user: User, *, with_secret: bool) -> JsonObject:
        """``OutputRobot``: the user's fields (no ``type``), then owner, [secret,] callback, robotExtra."""
        out = user.to_json(with_type=False)
        out["owner"] = self.owner
        if with_secret:
            out["secret"] = self.secret
        out["callback"] = self.callback
        out["robotExtra"] = self.extra
        return out


@dataclass(frozen=True)
class Message:
    message_id: int
    sender: str
    conv: Conversation
    payload: JsonObject
    to_users: list[str]
    timestamp: int

    def to_callback_json(self) -> JsonObject:
        """§5.3 ``OutputMessageData`` as posted to robot callbacks."""
        return {
            "messageId": self.message_id,
            "sender": self.sender,
            "conv": self.conv.to_json(),
            "payload": self.payload,
            "toUsers": self.to_users,
            "timestamp": self.timestamp,
        }

    def to_inbox_json(self) -> JsonObject:
        return {
            "sender": self.sender,
            "conv": self.conv.to_json(),
            "payload": self.payload,
            "messageUid": self.message_id,
            "timestamp": self.timestamp,
        }


_USER_COLUMNS = (
    "uid, name, display_name, portrait, gender, mobile, email, address, company, social, extra, type, update_dt"
)


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    # Users

    def user_get(self, user_id: str) -> User | None:
        return self._one_user("uid = ?", user_id)

    def user_by_name(self, name: str) -> User | None:
        return self._one_user("name = ?", name)

    def user_by_mobile(self, mobile: str) -> User | None:
        return self._one_user("mobile = ?", mobile)

    def users(self, *, user_type: int | None = None) -> list[User]:
        where, args = ("WHERE type = ?", (user_type,)) if user_type is not None else ("", ())
        rows = self._db.execute(f"SELECT {_USER_COLUMNS} FROM users {where} ORDER BY update_dt, uid", args)  # noqa: S608
        return [User(*row) for row in rows]

    def user_put(self, user: User) -> None:
        """Insert or replace the whole user row; ``NameTaken`` if another id owns the name."""
        owner = self.user_by_name(user.name)
        if owner is not None and owner.user_id != user.user_id:
            raise NameTaken(user.name)
        values = tuple(asdict(user).values())
        with self._db:
            self._db.execute(f"INSERT OR REPLACE INTO users ({_USER_COLUMNS}) VALUES ({','.join('?' * 13)})", values)  # noqa: S608

    def user_destroy(self, user_id: str) -> None:
        """The user, its robot record, its friendships both ways and its inbox (the messages stay)."""
        with self._db:
            self._db.execute("DELETE FROM users WHERE uid = ?", (user_id,))
            self._db.execute("DELETE FROM robots WHERE uid = ?", (user_id,))
            self._db.execute("DELETE FROM friends WHERE user_id = ? OR friend_uid = ?", (user_id, user_id))
            self._db.execute("DELETE FROM inbox WHERE user_id = ?", (user_id,))

    def _one_user(self, where: str, value: str) -> User | None:
        row = self._db.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE {where} LIMIT 1", (value,)).fetchone()  # noqa: S608
        return User(*row) if row else None

    # Robots

    def robot_get(self, user_id: str) -> Robot | None:
        row = self._db.execute(
            "SELECT uid, owner, secret, callback, state, extra FROM robots WHERE uid = ?", (user_id,)
        ).fetchone()
        return Robot(*row) if row else None

    def robot_put(self, robot: Robot) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO robots (uid, owner, secret, callback, state, extra) VALUES (?, ?, ?, ?, ?, ?)",
                tuple(asdict(robot).values()),
            )

    # Friendships: one row per direction, state 0 = friends (§6 /admin/friend/status)

    def friend_put(self, user_id: str, friend_uid: str, *, state: int, extra: str, timestamp: int) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO friends (user_id, friend_uid, state, extra, timestamp) VALUES (?, ?, ?, ?, ?)",
                (user_id, friend_uid, state, extra, timestamp),
            )

    def friend_state(self, user_id: str, friend_uid: str) -> int | None:
        row = self._db.execute(
            "SELECT state FROM friends WHERE user_id = ? AND friend_uid = ?", (user_id, friend_uid)
        ).fetchone()
        return int(row[0]) if row else None

    # Messages and inboxes

    def max_message_id(self) -> int:
        row = self._db.execute("SELECT MAX(id) FROM messages").fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def message_deliver(self, message: Message, inbox_users: list[str]) -> None:
        """Store the message and put it in each listed user's inbox, in one transaction."""
        with self._db:
            self._db.execute(
                "INSERT INTO messages (id, sender, conv_type, conv_target, conv_line, payload, to_users, timestamp)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    message.message_id,
                    message.sender,
                    message.conv.type,
                    message.conv.target,
                    message.conv.line,
                    json.dumps(message.payload, ensure_ascii=False),
                    json.dumps(message.to_users, ensure_ascii=False),
                    message.timestamp,
                ),
            )
            self._db.executemany(
                "INSERT OR IGNORE INTO inbox (user_id, message_id) VALUES (?, ?)",
                [(user, message.message_id) for user in inbox_users],
            )

    def inbox(self, user_id: str, *, after: int = 0, limit: int | None = None) -> list[Message]:
        """The user's inbox, oldest first (message ids grow with time), after the given message id."""
        rows = self._db.execute(
            "SELECT m.id, m.sender, m.conv_type, m.conv_target, m.conv_line, m.payload, m.to_users, m.timestamp"
            " FROM inbox i JOIN messages m ON m.id = i.message_id"
            " WHERE i.user_id = ? AND i.message_id > ? ORDER BY i.message_id LIMIT ?",
            (user_id, after, -1 if limit is None else limit),
        )
        return [
            Message(
                message_id=row[0],
                sender=row[1],
                conv=Conversation(type=row[2], target=row[3], line=row[4]),
                payload=json.loads(row[5]),
                to_users=json.loads(row[6]),
                timestamp=row[7],
            )
            for row in rows
        ]
