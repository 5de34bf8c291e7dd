"""`python bench/prototype_run.py ARGS` = `python run.py ARGS` with proposed server changes patched in.

Benchmarks use it to measure a change before anyone makes it in server/; server/ is not touched.
Patches (each also written out in bench/RESULTS.md as the change to make):

  (raw_sse, nodelay and drop_prompt, measured here first, are now part of the server itself:
   commits "Read upstream SSE as plain dicts..." and "Serve with TCP_NODELAY...".)
  BENCH_PATCH=poll50    PollingChannel (eventlet + local model) polls its queue every 50 ms instead of
                        5 ms: a test of whether the hub's 200 wake-ups a second slow generate() down.
Several patches: comma-separated.
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
PATCHES = set(filter(None, os.environ.get("BENCH_PATCH", "").split(",")))

import run  # noqa: E402  (patches eventlet per --async-mode, exactly as run.py does)

if "poll50" in PATCHES:
    from server import chat as _chat_mod

    _chat_mod.PollingChannel.__init__.__defaults__ = (0.05,)

if __name__ == "__main__":
    run.main()
