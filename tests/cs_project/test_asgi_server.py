from __future__ import annotations

import io

from cs_project.asgi_server import RedactingAccessLog, redact


def test_it_redacts_callback_tokens_and_keeps_the_rest() -> None:
    assert redact("/wfc/callback/cs_robot?k=s3cr3t") == "/wfc/callback/cs_robot?k=***"
    assert redact("/x?a=1&k=s3cr3t&b=2") == "/x?a=1&k=***&b=2"
    assert redact("/x?token=abc") == "/x?token=***"
    assert redact("/x?kk=visible&ok=1") == "/x?kk=visible&ok=1"


def test_the_access_log_line_is_redacted() -> None:
    stream = io.StringIO()
    RedactingAccessLog(stream)(
        "http",
        "complete",
        {"client": "127.0.0.1:5", "method": "POST", "path": "/wfc/callback/r?k=s3cr3t", "status": 200, "size": 10},
    )
    line = stream.getvalue()
    assert 'POST /wfc/callback/r?k=***"' in line
    assert "s3cr3t" not in line


def test_it_redacts_rating_tokens_in_the_path() -> None:
    assert redact("/rate/AbC123.xyz-_/") == "/rate/***/"
    assert redact("/rate/AbC123?lang=en") == "/rate/***?lang=en"
    assert redact("/console/rate/x/") == "/console/rate/x/", "only the rating form's own path"
