"""What the start says on the systems people bring: a console without Chinese or block characters, a taken port."""
from __future__ import annotations

import os
import socket
import subprocess
import sys

from tests.live import ROOT


def test_a_console_that_cannot_show_chinese_or_the_qr_code_does_not_stop_the_start():
    """Windows gives a redirected stdout its ANSI code page; cp1252 has no block characters and no Chinese."""
    code = ("import run; {} from server.web.lan import qr_text; print(qr_text('http://192.168.1.20:8000')); "
            "print('张三的服务器')")
    env = {**os.environ, "PYTHONIOENCODING": "cp1252", "CHAT_ASYNC_MODE": "threading"}
    bare = subprocess.run([sys.executable, "-c", code.format("")], cwd=ROOT, env=env, capture_output=True)
    assert bare.returncode != 0 and b"UnicodeEncodeError" in bare.stderr  # what the start would do unguarded
    fixed = subprocess.run([sys.executable, "-c", code.format("run.console_never_fails();")], cwd=ROOT, env=env,
                           capture_output=True)
    assert fixed.returncode == 0, fixed.stderr
    assert fixed.stdout.rstrip().endswith(b"??????") and len(fixed.stdout.splitlines()) > 10


def test_a_taken_port_stops_the_start_with_a_sentence(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        p = subprocess.run([sys.executable, os.path.join(ROOT, "run.py"), "--host", "127.0.0.1", "--port", str(port),
                            "--no-qr", "--store", "memory", "--data-dir", str(tmp_path), "--async-mode", "eventlet"],
                           cwd=str(tmp_path), capture_output=True, text=True, timeout=180)
    assert p.returncode == 1 and "Traceback" not in p.stderr, p.stderr
    assert f"Port {port} is in use by another program; choose another with --port" in p.stderr
