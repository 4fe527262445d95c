"""``python -m wfsandbox [options]``: run the sandbox in the foreground (see ``--help``)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from wfsandbox.config import ConfigError, configure_logging, parse_settings
from wfsandbox.server import serve


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = parse_settings(sys.argv[1:] if argv is None else argv, os.environ)
    except ConfigError as exc:
        sys.stderr.write(f"python -m wfsandbox: error: {exc}\n")
        return 2
    configure_logging(settings.log_level)
    try:
        asyncio.run(serve(settings))
    except OSError as exc:
        # Typically a port already in use: say which and exit non-zero rather than print a traceback.
        logging.getLogger("wfsandbox").error("cannot start: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
