"""docs/deploy/nginx.conf, the documented production config, run by Debian's nginx (``/usr/sbin/nginx``,
installed by ``make test``: scripts/ensure_nginx.sh) in a temporary prefix, in front of the real app
(pytest-django's live server). The config is changed only where it must be on a test machine: ports,
paths, the certificate (made here) and the upstream; each change is checked to still apply.

Uploads under /media/ are never pages of this origin (issue 13): images inline, everything else a
download, ``nosniff`` and a sandbox CSP on each; callbacks and pages reach the app; the access log
holds neither a callback's token nor a rating link's."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import os
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pytest_django.fixtures import Settings as SettingsWrapper
from pytest_django.live_server_helper import LiveServer

from robots.models import InboundMessage
from robots.services import cs_robot_get
from tests.support.consoles import cookie_for
from tests.support.processes import BASE_DIR, free_port, running, wait_until
from tests.support.sandbox import Sandbox
from tests.support.stack import stack_running

pytestmark = [pytest.mark.nginx, pytest.mark.django_db(transaction=True)]

NGINX = Path("/usr/sbin/nginx")
CONFIG = BASE_DIR / "docs" / "deploy" / "nginx.conf"
HOST = "cs.example.com"
SANDBOX_CSP = "default-src 'none'; sandbox"
OCTETS = "application/octet-stream"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass(frozen=True)
class Nginx:
    https: str  # the TLS server (443 in the config)
    http: str  # the plain one (80): /healthz, and a redirect for the rest
    media: Path
    access_log: Path
    certificate: Path

    def get(self, path: str, *, allow_redirects: bool = True) -> requests.Response:
        """``path`` over TLS, as a browser at https://cs.example.com would ask for it."""
        return requests.get(
            self.https + path,
            headers={"Host": HOST},
            verify=str(self.certificate),
            timeout=10,
            allow_redirects=allow_redirects,
        )

    def post(self, path: str, body: bytes) -> requests.Response:
        headers = {"Host": HOST, "Content-Type": "application/json"}
        return requests.post(self.https + path, data=body, headers=headers, verify=str(self.certificate), timeout=10)


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for cs.example.com and 127.0.0.1, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(HOST), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cs.crt", directory / "cs.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def _site(*, upstream: str, tls_port: int, http_port: int, cert: Path, key: Path, var: Path, log: Path) -> str:
    """docs/deploy/nginx.conf with what a test machine must change, and nothing else."""
    text = CONFIG.read_text()
    changes = [
        ("    server 127.0.0.1:8001;\n    server 127.0.0.1:8002;\n", f"    server {upstream};\n"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{tls_port} ssl http2;"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("/etc/ssl/cs.example.com.crt", str(cert)),
        ("/etc/ssl/cs.example.com.key", str(key)),
        ("/var/log/nginx/wildfire-cs.log", str(log)),
        ("/srv/wildfire-cs/var/", f"{var}/"),
    ]
    for old, new in changes:
        assert old in text, f"docs/deploy/nginx.conf no longer has {old!r}: adapt this test to it"
        text = text.replace(old, new)
    return text


def _main_config(prefix: Path, site: Path) -> str:
    """Debian's /etc/nginx/nginx.conf as far as the site depends on it (mime.types, the default type),
    with the pid, logs and temporary files in ``prefix``."""
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # Workers run as root when the test does: they read files under the test's own temporary directory.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""{user}worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"};
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
{temp}
    include {site};
}}
"""


@contextmanager
def nginx_running(*, upstream: str, tmp_path: Path) -> Iterator[Nginx]:
    """docs/deploy/nginx.conf served by Debian's nginx in front of ``upstream`` (host:port)."""
    assert NGINX.exists(), "Debian's nginx is missing: scripts/ensure_nginx.sh (as root) installs it"
    var, prefix = tmp_path / "var", tmp_path / "nginx"
    (var / "media").mkdir(parents=True)
    (var / "staticfiles").mkdir()
    prefix.mkdir()
    cert, key = _certificate(tmp_path)
    tls_port, http_port = free_port(), free_port()
    site = prefix / "wildfire-cs.conf"
    access_log = tmp_path / "wildfire-cs.log"
    site.write_text(
        _site(
            upstream=upstream,
            tls_port=tls_port,
            http_port=http_port,
            cert=cert,
            key=key,
            var=var,
            log=access_log,
        )
    )
    main = prefix / "nginx.conf"
    main.write_text(_main_config(prefix, site))
    argv = [str(NGINX), "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(main)]
    checked = subprocess.run([*argv, "-t"], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, f"nginx -t refused the config:\n{checked.stderr}"
    with running([*argv, "-g", "daemon off;"], env=dict(os.environ), log=tmp_path / "nginx.out") as master:
        https = f"https://127.0.0.1:{tls_port}"
        wait_until(lambda: _answers(https, cert), timeout=10, what="nginx")
        yield Nginx(https, f"http://127.0.0.1:{http_port}", var / "media", access_log, cert)
    with pytest.raises(ProcessLookupError):  # the master and its workers are gone
        os.killpg(master.pid, 0)


@pytest.fixture
def nginx(live_server: LiveServer, settings: SettingsWrapper, tmp_path: Path) -> Iterator[Nginx]:
    settings.ALLOWED_HOSTS = [HOST]  # DJANGO_ALLOWED_HOSTS in production
    live = urlsplit(live_server.url)
    with nginx_running(upstream=f"127.0.0.1:{live.port}", tmp_path=tmp_path) as proxy:
        yield proxy


def _answers(url: str, cert: Path) -> bool:
    try:
        requests.get(f"{url}/static/none", headers={"Host": HOST}, verify=str(cert), timeout=2)
    except requests.RequestException:
        return False
    return True


def _upload(media: Path, name: str, content: bytes) -> str:
    """A file as the console stores one (sessions_app/console/attachments.py), and its path."""
    folder = media / "console" / "2026" / "0f3c"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)
    return f"/media/console/2026/0f3c/{name}"


def _never_a_page(response: requests.Response) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == SANDBOX_CSP


@pytest.mark.parametrize(
    ("name", "content", "content_type", "disposition"),
    [
        ("invoice.html", b"<script>alert(document.cookie)</script>", OCTETS, "attachment"),
        (
            "drawing.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            "application/octet-stream",
            "attachment",
        ),
        ("notes.txt", b"hello", OCTETS, "attachment"),
        ("photo.png", PNG, "image/png", "inline"),
        ("photo.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 16, "image/jpeg", "inline"),
    ],
    ids=["html", "svg", "text", "png", "jpeg"],
)
def test_uploads_are_images_inline_or_downloads_never_pages(
    nginx: Nginx, name: str, content: bytes, content_type: str, disposition: str
) -> None:
    path = _upload(nginx.media, name, content)
    response = nginx.get(path)
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["Content-Type"] == content_type
    assert response.headers["Content-Disposition"] == disposition
    _never_a_page(response)


def test_a_missing_upload_is_a_404_with_the_same_headers(nginx: Nginx) -> None:
    response = nginx.get("/media/console/nothing.html")
    assert response.status_code == 404
    _never_a_page(response)


def test_callbacks_reach_the_app_and_their_token_stays_out_of_the_access_log(nginx: Nginx) -> None:
    robot = cs_robot_get()
    wrong = nginx.post(f"/wfc/callback/{robot.robot_id}?k=wrong-token", b"{}")
    assert (wrong.status_code, wrong.json()) == (403, {"error": "unknown robot or wrong callback token"})
    body = {
        "messageId": 430843814853214338,
        "sender": "nginx-customer",
        "conv": {"type": 0, "target": robot.robot_id, "line": 0},
        "payload": {"type": 1, "searchableContent": "经过 nginx", "persistFlag": 3},
        "toUsers": [],
        "timestamp": 1700000000000,
    }
    accepted = nginx.post(f"/wfc/callback/{robot.robot_id}?k={robot.callback_token}", json.dumps(body).encode())
    assert accepted.status_code == 200, accepted.text
    assert InboundMessage.objects.filter(message_id=430843814853214338, sender="nginx-customer").exists()
    nginx.get("/rate/secret-rating-token/")

    # nginx writes the access-log line after the response has gone: on a busy machine the test can
    # read the file first.
    deadline = time.monotonic() + 10
    while '"GET /rate/' not in (log := nginx.access_log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert f'"POST /wfc/callback/{robot.robot_id}" 200' in log
    assert '"GET /rate/***/"' in log
    assert robot.callback_token not in log
    assert "wrong-token" not in log
    assert "secret-rating-token" not in log


def test_pages_and_health_reach_the_app_over_tls_and_plain_http(nginx: Nginx) -> None:
    login = nginx.get("/admin/login/", allow_redirects=False)
    assert login.status_code == 200
    assert "csrftoken" in login.cookies, "a page of the app, not of nginx"
    over_tls = nginx.get("/healthz")
    assert "database" in over_tls.json(), over_tls.text
    # Load balancers probe /healthz over plain HTTP (SECURE_REDIRECT_EXEMPT), by name or by address.
    # Before: nginx sent the upstream's name as Host, and Django answered 400 (DisallowedHost).
    for host in (HOST, "10.0.0.5"):
        plain = requests.get(f"{nginx.http}/healthz", headers={"Host": host}, timeout=10)
        assert "database" in plain.json(), f"{plain.status_code} {plain.text[:200]}"
        assert plain.json()["database"]["ok"] is True


def test_plain_http_redirects_to_https(nginx: Nginx) -> None:
    response = requests.get(f"{nginx.http}/console/?x=1", headers={"Host": HOST}, allow_redirects=False, timeout=10)
    assert (response.status_code, response.headers["Location"]) == (301, f"https://{HOST}/console/?x=1")


async def _console_through(proxy: Nginx, session_key: str, act: Callable[[], None]) -> list[dict[str, Any]]:
    """The console's websocket over TLS through nginx, as a browser on https://cs.example.com opens it:
    the hello, then the frames that ``act`` (run in a thread) causes, until the assignment and the
    customer's message have both arrived; then a reply, until its ack."""
    tls = ssl.create_default_context(cafile=str(proxy.certificate))
    frames: list[dict[str, Any]] = []
    headers = {"Host": HOST, "Origin": f"https://{HOST}", "Cookie": f"sessionid={session_key}"}
    async with aiohttp.ClientSession() as client:
        ws_url = proxy.https.replace("https://", "wss://") + "/ws/console/"
        async with client.ws_connect(ws_url, headers=headers, ssl=tls) as ws:
            hello = json.loads((await ws.receive(timeout=15)).data)
            assert hello["type"] == "hello", hello
            await asyncio.to_thread(act)
            deadline = time.monotonic() + 30

            def arrived() -> bool:
                kinds = {frame.get("type") for frame in frames}
                texts = json.dumps(frames, ensure_ascii=False)
                return "session.assigned" in kinds and "穿过代理的消息" in texts

            while not arrived():
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"the console got {[frame.get('type') for frame in frames]}"
                message = await ws.receive(timeout=remaining)
                assert message.type == aiohttp.WSMsgType.TEXT, message
                frames.append(json.loads(message.data))
            assigned = next(frame for frame in frames if frame.get("type") == "session.assigned")
            await ws.send_json(
                {"action": "reply", "request_id": "n1", "session_id": assigned["session_id"], "text": "经代理回复"}
            )
            while (frame := json.loads((await ws.receive(timeout=15)).data)).get("type") != "ack":
                frames.append(frame)
    return frames


@pytest.mark.e2e
def test_a_console_websocket_works_through_nginx(
    sandbox: Sandbox, settings: SettingsWrapper, transactional_db: None, tmp_path: Path
) -> None:
    """The /ws/ location (Upgrade, Connection, Host, X-Forwarded-Proto) in front of the real ASGI
    process: a servicer's console over wss gets a customer's chat live and its reply reaches the
    customer (issue 13 left this untested)."""
    # As docs/deploy.md has it for a site behind the proxy: its name, and its https origin.
    extra = {"DJANGO_ALLOWED_HOSTS": f"{HOST},127.0.0.1,localhost", "DJANGO_CSRF_TRUSTED_ORIGINS": f"https://{HOST}"}
    with stack_running(sandbox=sandbox, settings=settings, tmp_path=tmp_path, extra_env=extra) as stack:
        seat = stack.online_seat("proxied", im=False)
        customer = stack.new_customer()
        key = cookie_for(seat.user)

        def customer_asks() -> None:
            stack.im.say(customer, "转人工")
            stack.im.wait_for_text(customer, "为您服务")
            stack.im.say(customer, "穿过代理的消息")

        with nginx_running(upstream=urlsplit(stack.url).netloc, tmp_path=tmp_path / "proxy") as proxy:
            frames = asyncio.run(_console_through(proxy, key, customer_asks))
            stack.im.wait_for_text(customer, "经代理回复")
        log = proxy.access_log.read_text()  # nginx has stopped: every line is written
        assert any(frame.get("type") == "session.assigned" for frame in frames)
        assert '"GET /ws/console/" 101' in log, log
