import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

# Tests import the `hostile` helper module that sits beside them.
sys.path.insert(0, os.path.dirname(__file__))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def http_server(tmp_path_factory):
    """nginx on 127.0.0.1 serving a temp folder with range requests.

    Yields (base_url, root folder, access log path); each request is one log line.
    """
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        pytest.fail("nginx is not installed: run scripts/install-system-deps")
    prefix = tmp_path_factory.mktemp("nginx")
    root = prefix / "www"
    root.mkdir()
    port = _free_port()
    log = prefix / "access.log"
    conf = prefix / "nginx.conf"
    # Workers must read pytest's private temp folders: run them as ourselves.
    user = "user root;" if os.geteuid() == 0 else ""
    conf.write_text(f"""
{user}
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log {log};
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
""")
    proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(prefix)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"nginx did not start: {proc.stderr.read().decode()}")
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", root, log
    proc.terminate()
    proc.wait(timeout=10)
