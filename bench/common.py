"""Shared bits of the benchmarks: machine facts, percentiles, tables, servers on loopback."""
from __future__ import annotations

import contextlib
import datetime
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests.live import LiveServer, free_port, http_json  # noqa: E402,F401


def machine() -> str:
    """nproc, CPU model, RAM, Python, and the load average when the run began (others share the box)."""
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ram = "?"
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            ram = f"{kb / 2**20:.1f} GiB"
    except (OSError, ValueError):
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"nproc {os.cpu_count()}, CPU {model}, RAM {ram}, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}; load average at start {load}")


def header(title: str) -> None:
    print(f"# {title}")
    print(f"date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(f"command: python -m {shlex.join([sys.modules['__main__'].__spec__.name, *sys.argv[1:]])}"
          if getattr(sys.modules["__main__"], "__spec__", None) else f"command: {shlex.join(sys.argv)}")
    print(f"machine: {machine()}")
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "server", "run.py"],
                               capture_output=True, text=True).stdout.strip()
        print(f"server code: {rev}{' + uncommitted changes in server/' if dirty else ''}")
    except OSError:
        pass
    print(flush=True)


def pct(values, q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; nan for no values."""
    xs = sorted(values)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def table(headers: list[str], rows: list[list]) -> str:
    """A Markdown table; floats printed with at most 2 decimals."""
    def fmt(v):
        if isinstance(v, float):
            if v != v:
                return "-"
            return f"{v:.2f}" if abs(v) < 100 else f"{v:.0f}" if abs(v) >= 1000 else f"{v:.1f}"
        return str(v)
    cells = [[fmt(v) for v in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = lambda vals: "| " + " | ".join(v.ljust(w) for v, w in zip(vals, widths)) + " |"  # noqa: E731
    out = [line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in cells]
    return "\n".join(out)


def wait_healthz(url: str, timeout: float, proc=None, ready: bool = True) -> float:
    """Poll url/healthz every 50 ms; seconds until it answers (with model_ready when `ready`)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            status, body = http_json(url + "/healthz")
            if status == 200 and (not ready or body.get("model_ready")):
                return time.monotonic() - t0
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} not ready in {timeout} s")


class BenchServer(LiveServer):
    """LiveServer that can run bench/prototype_run.py (run.py with proposed changes patched in).

    Benchmarks measure speed, not roles: every BenchServer is in LiveServer's "open" mode (`--open` unless its
    flags give an admin token), so a bench may upload to the library anonymously, as before #39.
    """

    def __init__(self, *args, patch: str | None = None, mode: str = "open", **kw):
        super().__init__(*args, mode=mode, **kw)
        self.patch = patch
        self.script = os.path.join(ROOT, "bench", "prototype_run.py") if patch else os.path.join(ROOT, "run.py")
        if patch:
            self.env["BENCH_PATCH"] = patch

    def start(self, wait_ready: bool = True, timeout: float = 120) -> "BenchServer":
        args = self.args
        checkout = ROOT if self.patch else os.path.dirname(os.path.abspath(self.script))
        if not os.path.exists(os.path.join(checkout, "server", "admin_token.py")):
            args = [a for a in args if a != "--open"]  # a checkout from before #39 (--before): open, and no --open flag
        self.proc = subprocess.Popen([sys.executable, self.script, *args], cwd=tempfile.mkdtemp(prefix="bench-"),
                                     env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        try:
            wait_healthz(self.url, timeout, self.proc, ready=wait_ready)
        except Exception:
            self.stop()
            raise RuntimeError(f"server did not start:\n{self.output()[-3000:]}")
        return self


def loaded_backend(dtype: str, threads: int = 1, batch_size: int = 8):
    """The built-in model's LocalBackend, started and waited for (in this process, `threads` torch threads)."""
    import torch

    from server.backends.local import LocalBackend

    b = LocalBackend(None, dtype=dtype, batch_size=batch_size, threads=threads)
    b.start()
    while not (b.status().model_ready or b.status().error):
        time.sleep(0.05)
    torch.set_num_threads(threads)
    return b


def server_rows(dtype: str, size: int):
    """(backend, its Prompter, a RowBatch of `size` rows from its preamble): the server's batch, driven by a bench."""
    from server.backends.local.prompt import Prompter
    from server.backends.local.rows import RowBatch

    b = loaded_backend(dtype)
    prompter = Prompter(b.loaded)
    return b, prompter, RowBatch(b.model, b.loaded.eos_ids, size, 2048, prompter.preamble())


def footer(t0: float) -> None:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\n(run took {time.monotonic() - t0:.0f} s; load average at end {load})", flush=True)


@contextlib.contextmanager
def paced_upstream_and_servers():
    """(upstream URL, its process, a dict for servers): bench/paced_upstream.py running; all stopped after."""
    up = subprocess.Popen([sys.executable, "-m", "bench.paced_upstream"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    servers: dict[str, BenchServer] = {}
    try:
        yield up.stdout.readline().strip(), up, servers
    finally:
        for s in servers.values():
            s.stop()
        up.terminate()
        up.wait()
