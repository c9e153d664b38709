"""The edge collector stands alone: no web-app imports, and its CLI speaks plainly."""

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from edge_collector.cli import main


class Health(BaseHTTPRequestHandler):
    status_body = {"status": "ok"}

    def do_GET(self):  # noqa: N802 - http.server's naming
        body = json.dumps(self.status_body if self.path == "/healthz" else {}).encode()
        self.send_response(200 if self.path == "/healthz" else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = HTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


def test_collector_imports_nothing_from_the_web_app():
    code = (
        "import sys, edge_collector.cli; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "{'pyramid', 'sqlalchemy', 'huey', 'hashinsight_core', 'plugins'}]; "
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_check_reports_a_server_that_is_up(server, capsys):
    assert main(["check", server]) == 0
    assert "server is up" in capsys.readouterr().out


def test_check_fails_in_one_line_when_nothing_listens(capsys):
    assert main(["check", "http://127.0.0.1:1", "--timeout", "2"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("hashinsight-edge: error: http://127.0.0.1:1:") and "\n" not in err


def test_check_refuses_a_non_http_url(capsys):
    assert main(["check", "ftp://farm"]) == 1
    assert "is not an http(s) URL" in capsys.readouterr().err


def test_bad_arguments_are_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["poll"])
    assert info.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1
