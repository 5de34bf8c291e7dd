"""The repository passes its own lint rules: ruff (ruff.toml) for Python; ESLint (eslint.config.js) and
tsc --checkJs over the chat core (tsconfig.json) for JavaScript."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NODE_BIN = os.path.join(ROOT, "static", "node_modules", ".bin")
needs_node_tools = pytest.mark.skipif(
    not os.path.isdir(NODE_BIN) and not os.environ.get("CI"), reason="run `npm ci --prefix static` first")


def test_ruff_finds_nothing():
    pytest.importorskip("ruff", reason="ruff is in requirements-dev.txt")
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


@needs_node_tools
def test_eslint_finds_nothing():
    """The page, its core, the uni-app (its .vue files too) and the Node tests: recommended rules, one style."""
    run = subprocess.run([os.path.join(NODE_BIN, "eslint"), "--no-warn-ignored", "--max-warnings", "0", "."],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


@needs_node_tools
def test_the_cores_jsdoc_types_check():
    """tsc --checkJs: the core's uses of the shapes in static/js/core/types.js (Done, Ready, Job...) match them."""
    run = subprocess.run([os.path.join(NODE_BIN, "tsc"), "-p", "tsconfig.json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
