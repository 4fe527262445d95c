from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from robots.inbound_stream import InboundStream


class Command(BaseCommand):
    help = (
        "Act on stored customer messages as they commit (robots/inbound_stream.py, CS_INBOUND_DRAIN=stream);"
        " stops on SIGTERM or Ctrl-C."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--concurrency",
            type=int,
            default=None,
            help="conversations at once (CS_INBOUND_STREAM_CONCURRENCY)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stream = (
            InboundStream() if options["concurrency"] is None else InboundStream(concurrency=options["concurrency"])
        )
        stop = threading.Event()

        def stopping(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, stopping)
        stream.run(stop)
