"""`python bench/prototype_run.py ARGS` = `python run.py ARGS` with proposed server changes patched in.

Benchmarks use it to measure a change before anyone makes it in server/; server/ is not touched.
Patches (each also written out in bench/RESULTS.md as the change to make):

  (raw_sse, nodelay and drop_prompt, measured here first, are now part of the server itself:
   commits "Read upstream SSE as plain dicts..." and "Serve with TCP_NODELAY...". poll50 went with
   the polling channel it patched.) None is defined at present; add one here to measure a change.
Several patches: comma-separated.
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
PATCHES = set(filter(None, os.environ.get("BENCH_PATCH", "").split(",")))

import run  # noqa: E402  (patches eventlet per --async-mode, exactly as run.py does)

if __name__ == "__main__":
    run.main()
