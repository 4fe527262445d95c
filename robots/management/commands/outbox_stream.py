from __future__ import annotations

import asyncio
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from robots.outbox_stream import OutboxStream


class Command(BaseCommand):
    help = "Deliver the outbox to the IM server, streaming (robots/outbox_stream.py); stops on SIGTERM or Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--concurrency", type=int, default=None, help="messages in flight at once (CS_OUTBOX_STREAM_CONCURRENCY)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stream = OutboxStream() if options["concurrency"] is None else OutboxStream(concurrency=options["concurrency"])
        asyncio.run(_run(stream))


async def _run(stream: OutboxStream) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stream.run(stop)
