"""``python -m cs_project.asgi_server``: Daphne, with callback and rating tokens redacted from its access log.

The IM server authenticates its callbacks only by the token in the callback URL's query (it
cannot sign them, §5.2 of the protocol reference), and Daphne's access log prints whole URLs.
This entry point is Daphne's own command line with one change: query parameters that carry a
secret are replaced by ``***`` before a line is written. Every Daphne option works as usual.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from daphne.access import AccessLogGenerator
from daphne.cli import CommandLineInterface
from daphne.server import Server

SECRET_QUERY_PARAMETERS = ("k", "token")
_SECRET_VALUE = re.compile(r"([?&](?:" + "|".join(SECRET_QUERY_PARAMETERS) + r")=)[^&\s]*")
# A rating link's token is a path segment (/rate/<token>/): whoever holds it can rate the session.
_SECRET_SEGMENT = re.compile(r"^(/rate/)[^/?\s]+")


def redact(path: str) -> str:
    return _SECRET_SEGMENT.sub(r"\1***", _SECRET_VALUE.sub(r"\1***", path))


class RedactingAccessLog(AccessLogGenerator):  # type: ignore[misc]
    def __call__(self, protocol: str, action: str, details: dict[str, Any]) -> None:
        if "path" in details:
            details = {**details, "path": redact(str(details["path"]))}
        super().__call__(protocol, action, details)


class RedactingServer(Server):  # type: ignore[misc]
    def __init__(self, *args: Any, action_logger: Any = None, **kwargs: Any) -> None:
        if isinstance(action_logger, AccessLogGenerator):
            action_logger = RedactingAccessLog(action_logger.stream)
        super().__init__(*args, action_logger=action_logger, **kwargs)


class RedactingCommandLine(CommandLineInterface):  # type: ignore[misc]
    server_class = RedactingServer


def main() -> None:
    RedactingCommandLine().run(sys.argv[1:])


if __name__ == "__main__":
    main()
