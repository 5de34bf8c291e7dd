"""The uni-app client: its Node tests against the live server, and its H5, mini-program and App builds."""
import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.live import ROOT
from tests.tinymodel import build

APP = os.path.join(ROOT, "mobile-uniapp")
pytestmark = pytest.mark.skipif(
    not os.path.isdir(os.path.join(APP, "node_modules")) and not os.environ.get("CI"),
    reason="run `npm ci --prefix mobile-uniapp` first")


def npm(*args: str, timeout: float = 600, **extra_env: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("DEEPSEEK_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL")}
    env.update(PYTHON=sys.executable, **extra_env)
    proc = subprocess.run([shutil.which("npm") or "npm", *args], cwd=APP, env=env, capture_output=True, text=True,
                          timeout=timeout)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, failures(out) or out[-6000:]
    return out


def failures(tap: str) -> str:
    """The failed subtests of a TAP report, each with its diagnostics, so a red run names what failed."""
    blocks = re.findall(r"^\s*not ok .*?(?=^\s*(?:ok|not ok) \d|\Z)", tap, flags=re.M | re.S)
    return "\n".join(block[:3000] for block in blocks)


def test_node_tests_against_the_live_server(tmp_path):
    # One tiny model for the three live files, built here where torch is already imported.
    out = npm("test", TINY_MODEL=build(str(tmp_path / "tiny"), endless=True))
    assert "# fail 0" in out and "# pass" in out


@pytest.mark.parametrize("target, artifact", [
    ("h5", "dist/build/h5/index.html"),
    ("mp-weixin", "dist/build/mp-weixin/app.json"),
    ("app", "dist/build/app/manifest.json"),
])
def test_build(target, artifact):
    path = os.path.join(APP, artifact)
    if os.path.exists(path):
        os.remove(path)
    npm("run", f"build:{target}")
    assert os.path.getsize(path) > 0
