"""Local model: tokens/s through the server vs a bare `model.generate`, and under concurrency vs `transformers serve`.

    python -m bench.local_model [--models tiny,gemma] [--cache-dir DIR] [--rounds 3] [--levels 1,4,8]
                                [--modes threading,eventlet] [--batch-sizes 1] [--threads N] [--prototype P]
                                [--no-serve]

Models: "tiny" = `python -m tests.tinymodel DIR --endless` (random Qwen2, every reply runs to
max_tokens), "gemma" = the built-in Gemma 3 270M as the server caches it (CACHE/models/
gemma-3-270m-q4_k_m; made by a server start with --cache-dir CACHE when missing).

Every path runs torch with the same number of CPU threads (--threads; default: what our server
picks on this machine, cores - 1 on 4 cores or fewer): our servers get --threads N, the bare worker
and `transformers serve` OMP_NUM_THREADS=N. On a 2-core box 2 threads are faster while nothing
else runs and several times slower as soon as something does, so compare like with like.

Part 1, one stream at a time, greedy (do_sample false), the same prompt (one user message
through the model's chat template) and max_new_tokens, interleaved round by round:
  bare     a worker process that loaded the same folder the way the server does (float32, CPU)
           and runs model.generate(streamer=...) itself: the reference;
  server   python run.py --backend local --model DIR, one Socket.IO client (chat with
           params {max_tokens, do_sample: false}), per async mode with the default --batch-size,
           with each --batch-sizes value, and with --prototype patch sets (bench/prototype_run.py).
  tok/s = completion tokens / (last token - request sent); decode tok/s = (tokens - 1) /
  (last token - first token); TTFT = first token - request sent.

Part 2, 1/4/8 sessions at once (each its own conversation, same prompt, greedy), aggregate tok/s =
all tokens / (last token of all - first request) and TTFT p50/max, for our server (threading,
default --batch-size and each --batch-sizes value) against `transformers serve DIR --device cpu`,
with and without --continuous-batching, on the same folder (its streamed chat completions read by
a minimal SSE client).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from .common import footer, BenchServer, free_port, header, http_json, pct, table

PROMPT = "Write a short story about a little server that answers questions from phones on the same network."

BARE_WORKER = r"""
import json, sys, time, torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from transformers.generation.streamers import BaseStreamer
path = sys.argv[1]
tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype="auto").to(torch.float32).eval()
# Stop tokens as the server picks them (server/backends/local/loader.py).
END = ("<end_of_turn>", "<|im_end|>", "<|eot_id|>", "<|end|>", "<|endoftext|>")
vocab = tok.get_vocab()
eos = model.generation_config.eos_token_id
eos = [eos] if isinstance(eos, int) else list(eos or [])
if tok.eos_token_id is not None:
    eos.append(tok.eos_token_id)
eos = list(dict.fromkeys(eos + [vocab[t] for t in END if t in vocab]))
pad = tok.pad_token_id if tok.pad_token_id is not None else eos[0]
print("LOADED", flush=True)
class S(BaseStreamer):
    def __init__(self):
        self.seen = False; self.times = []
    def put(self, v):
        if not self.seen:
            self.seen = True; return
        self.times.append(time.monotonic())
    def end(self):
        pass
for line in sys.stdin:
    req = json.loads(line)
    t0 = time.monotonic()
    text = tok.apply_chat_template([{"role": "user", "content": req["prompt"]}], add_generation_prompt=True,
                                   tokenize=False)
    ids = torch.tensor([tok(text, add_special_tokens=False)["input_ids"]])
    s = S()
    with torch.inference_mode():
        model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=req["max_new"],
                       do_sample=False, temperature=None, top_p=None, top_k=None, eos_token_id=eos, pad_token_id=pad,
                       streamer=s)
    print(json.dumps({"t0": t0, "times": s.times}), flush=True)
"""


class Bare:
    def __init__(self, path: str, env: dict | None = None):
        self.proc = subprocess.Popen([sys.executable, "-c", BARE_WORKER, path], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                     env={**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
                                          **(env or {})})
        line = self.proc.stdout.readline()
        if not line.startswith("LOADED"):
            raise RuntimeError("bare worker did not load the model")

    def run(self, max_new: int) -> dict:
        self.proc.stdin.write(json.dumps({"prompt": PROMPT, "max_new": max_new}) + "\n")
        self.proc.stdin.flush()
        r = json.loads(self.proc.stdout.readline())
        times = r["times"]
        return {"t0": r["t0"], "first": times[0], "last": times[-1], "n": len(times)}

    def close(self):
        self.proc.kill()
        self.proc.wait()


def server_stream(url: str, max_new: int, timeout: float = 600) -> dict:
    """One chat through a fresh Socket.IO client; times of request, first and last token."""
    from tests.live import Client

    c = Client(url)
    try:
        first = []
        last = []
        c.sio.on("token", lambda d: (first or first.append(time.monotonic()), last.append(time.monotonic())))
        t0 = time.monotonic()
        rid = c.chat(PROMPT, params={"max_tokens": max_new, "do_sample": False})
        done = c.wait_done(rid, timeout)
        if done["finish_reason"] not in ("stop", "length"):
            raise RuntimeError(f"reply ended with {done}")
        n = (done.get("usage") or {}).get("completion_tokens") or 0
        return {"t0": t0, "first": first[0], "last": last[-1], "n": n}
    finally:
        c.close()


def sse_stream(base_url: str, model: str, max_new: int, timeout: float = 600) -> dict:
    """One streamed chat completion from an OpenAI-compatible server, read line by line."""
    host, port = base_url.split("//", 1)[1].split("/", 1)[0].split(":")
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": PROMPT}], "stream": True,
                       "max_tokens": max_new, "temperature": 0,
                       "stream_options": {"include_usage": True}})
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    t0 = time.monotonic()
    conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError(f"{resp.status} {resp.read()[:300]}")
    first = last = None
    events = 0
    usage = None
    for raw in resp:
        line = raw.decode().strip()
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            break
        ev = json.loads(data)
        if ev.get("usage"):
            usage = ev["usage"].get("completion_tokens")
        ch = ev.get("choices") or []
        if ch and (ch[0].get("delta") or {}).get("content"):
            t = time.monotonic()
            first = first or t
            last = t
            events += 1
    conn.close()
    return {"t0": t0, "first": first, "last": last, "n": usage or events}


def rates(rs: list[dict]) -> tuple[float, float, float]:
    """(tok/s end to end, decode tok/s, TTFT ms) medians over streams."""
    e2e = [r["n"] / (r["last"] - r["t0"]) for r in rs]
    dec = [(r["n"] - 1) / (r["last"] - r["first"]) for r in rs if r["last"] > r["first"]]
    ttft = [(r["first"] - r["t0"]) * 1000 for r in rs]
    return pct(e2e, 50), pct(dec, 50), pct(ttft, 50)


def concurrent(fn, level: int) -> list[dict]:
    out: list = [None] * level
    errs = []

    def run(i):
        try:
            out[i] = fn()
        except Exception as e:
            errs.append(repr(e))
    threads = [threading.Thread(target=run, args=(i,)) for i in range(level)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errs:
        raise RuntimeError(errs[0])
    return out


class Serve:
    """`transformers serve DIR --device cpu [--continuous-batching]` on a free loopback port."""

    def __init__(self, path: str, cb: bool, env: dict):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.log = tempfile.NamedTemporaryFile("w+", prefix="bench-serve-", suffix=".log", delete=False)
        cmd = ["transformers", "serve", path, "--host", "127.0.0.1", "--port", str(self.port), "--device", "cpu"]
        cmd += ["--continuous-batching"] if cb else []
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
                                          **env})
        deadline = time.monotonic() + 180
        while True:
            try:
                status, body = http_json(self.url + "/models")
                if status == 200:
                    self.model = body["data"][0]["id"] if body.get("data") else path
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.log.seek(0)
                raise RuntimeError("transformers serve did not start:\n" + self.log.read()[-2000:])
            time.sleep(0.3)

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# Gemma's turn format. The built-in model is a base model and the server prompts it as a plain transcript
# that ends where a reply ends; for speed, every path here gets this template so that all three run the
# same prompt to the same max_new_tokens (transformers serve needs a template anyway).
TURN_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}{{ '<start_of_turn>' + ('model' if m['role'] == 'assistant' else 'user') "
    "+ '\\n' + m['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}"
)


def gemma_folder(cache: str, work: str) -> str:
    """The cached built-in Gemma with a turn template: its files linked into `work`, the template written there."""
    folder = os.path.join(cache, "models", "gemma-3-270m-q4_k_m")
    if not os.path.isfile(os.path.join(folder, "config.json")):
        print(f"no cached Gemma in {cache}: starting the server once to make it (a few minutes)", flush=True)
        s = BenchServer("--cache-dir", cache)
        s.start(timeout=600)
        s.stop()
    out = os.path.join(work, "gemma")
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(folder):
        if f != "chat_template.jinja":
            os.symlink(os.path.join(folder, f), os.path.join(out, f))
    with open(os.path.join(out, "chat_template.jinja"), "w") as f:
        f.write(TURN_TEMPLATE)
    return out


def part1(name, path, args, out_rows):
    max_new = args.max_new[name]
    first_mode = args.modes.split(",")[0]
    # (label, "bare" or async mode, prototype patch, extra server args)
    specs = [("bare generate", "bare", None, [])]
    specs += [(f"server {m}", m, None, []) for m in args.modes.split(",")]
    specs += [(f"server {first_mode} --batch-size {b}", first_mode, None, ["--batch-size", b])
              for b in filter(None, args.batch_sizes.split(","))]
    specs += [(f"server eventlet +{p}", "eventlet", p.replace("+", ","), [])
              for p in filter(None, args.prototype.split(","))]
    runners = {}
    try:
        for label, mode, patch, extra in specs:
            if mode == "bare":
                runners[label] = Bare(path, args.omp)
            else:
                runners[label] = BenchServer("--backend", "local", "--model", path, "--rate-per-minute", "0",
                                             "--rate-per-minute-ip", "0", "--log-level", "WARNING",
                                             "--threads", str(args.threads), *extra,
                                             async_mode=mode, patch=patch).start(timeout=300)

        def once(r, n):
            return r.run(n) if isinstance(r, Bare) else server_stream(r.url, n)
        for r in runners.values():  # warm-up: first-call allocations, lazy imports
            once(r, 4)
        res: dict[str, list] = {}
        for i in range(args.rounds):
            for label, r in runners.items():
                res.setdefault(label, []).append(once(r, max_new))
            print(f"  {name} part 1 round {i + 1}/{args.rounds} done", flush=True)
        ref_e2e, ref_dec, ref_ttft = rates(res["bare generate"])
        for label, rs in res.items():
            e2e, dec, ttft = rates(rs)
            out_rows.append([name, label, len(rs), pct([r["n"] for r in rs], 50), e2e, e2e / ref_e2e,
                             dec, dec / ref_dec, ttft, ttft - ref_ttft])
    finally:
        for r in runners.values():
            r.close() if isinstance(r, Bare) else r.stop()


def part2(name, path, args, out_rows):
    max_new = args.max_new[name]
    levels = [int(x) for x in (args.gemma_levels if name == "gemma" else args.levels).split(",")]
    targets = {}
    try:
        for b in [None] + [b for b in args.batch_sizes.split(",") if b]:
            label = "our server (threading" + (f", --batch-size {b})" if b else ", default --batch-size)")
            targets[label] = ("sio", BenchServer(
                "--backend", "local", "--model", path, "--rate-per-minute", "0", "--rate-per-minute-ip", "0",
                "--log-level", "WARNING", "--threads", str(args.threads), *(["--batch-size", b] if b else []),
                "--max-sockets-per-ip", "100", async_mode="threading").start(timeout=300))
        if not args.no_serve and shutil.which("transformers"):
            for cb in (True,) if args.no_plain_serve else (False, True):
                label = "transformers serve" + (" --continuous-batching" if cb else "")
                try:
                    targets[label] = ("sse", Serve(path, cb, args.omp))
                except RuntimeError as e:
                    print(f"{label}: {str(e)[:600]}", flush=True)
        for kind, t in targets.values():  # warm-up: two at once, so that batches and their caches exist
            concurrent((lambda t=t: server_stream(t.url, 4)) if kind == "sio"
                       else (lambda t=t: sse_stream(t.url, t.model, 4)), 2)
        for level in levels:
            runs: dict[str, list] = {label: [] for label in targets}
            for _ in range(args.level_rounds):  # targets interleaved round by round: drift hits them alike
                for label, (kind, t) in targets.items():
                    fn = ((lambda t=t: server_stream(t.url, max_new)) if kind == "sio"
                          else (lambda t=t: sse_stream(t.url, t.model, max_new)))
                    try:
                        runs[label].append(concurrent(fn, level))
                    except RuntimeError as e:
                        runs[label].append(str(e))
            for label, rounds in runs.items():
                failed = [r for r in rounds if isinstance(r, str)]
                if failed:
                    out_rows.append([name, level, label, f"failed: {failed[0][:80]}"] + [float("nan")] * 5)
                    continue
                tokens = sum(r["n"] for rs in rounds for r in rs)
                span = sum(max(r["last"] for r in rs) - min(r["t0"] for r in rs) for rs in rounds)
                ttft = [(r["first"] - r["t0"]) * 1000 for rs in rounds for r in rs]
                out_rows.append([name, level, label, tokens, tokens / span, pct(ttft, 50), max(ttft), span])
            print(f"  {name} part 2 level {level} done", flush=True)
    finally:
        for kind, t in targets.values():
            (t.stop() if kind == "sio" else t.close())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="tiny,gemma")
    ap.add_argument("--cache-dir",
                    default=os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                                                         "lan-llm-chat"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--levels", default="1,4,8")
    ap.add_argument("--modes", default="threading,eventlet")
    ap.add_argument("--prototype", default="", help="patch sets for eventlet (bench/prototype_run.py), e.g. nodelay")
    ap.add_argument("--tiny-tokens", type=int, default=200)
    ap.add_argument("--gemma-tokens", type=int, default=16)
    ap.add_argument("--no-serve", action="store_true")
    ap.add_argument("--no-plain-serve", action="store_true",
                    help="of transformers serve, run only --continuous-batching")
    ap.add_argument("--level-rounds", type=int, default=1, help="part 2: each level this many times, interleaved")
    ap.add_argument("--batch-sizes", default="1", help="also run our server with these --batch-size values")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch CPU threads for every path (default: our server's choice on this machine)")
    ap.add_argument("--gemma-levels", default="1,4,8")
    ap.add_argument("--part", default="1,2")
    args = ap.parse_args()
    args.max_new = {"tiny": args.tiny_tokens, "gemma": args.gemma_tokens}
    from server.backends.local import default_threads

    args.threads = args.threads or default_threads() or os.cpu_count()
    args.omp = {"OMP_NUM_THREADS": str(args.threads)}
    header("local_model: tokens/s through the server vs bare generate; concurrency vs transformers serve")
    print(f"torch threads on every path: {args.threads}\n", flush=True)
    t_start = time.monotonic()
    work = tempfile.mkdtemp(prefix="bench-local-")
    rows1, rows2 = [], []
    try:
        paths = {}
        for name in args.models.split(","):
            if name == "tiny":
                from tests import tinymodel

                paths[name] = tinymodel.build(os.path.join(work, "tiny"), endless=True)
            elif name == "gemma":
                paths[name] = gemma_folder(args.cache_dir, work)
        for name, path in paths.items():
            if "1" in args.part:
                part1(name, path, args, rows1)
            if "2" in args.part:
                part2(name, path, args, rows2)
        if rows1:
            print("\nPart 1: one stream, greedy, same prompt and max_new_tokens "
                  f"(tiny {args.tiny_tokens}, gemma {args.gemma_tokens}); medians over {args.rounds} rounds")
            print(table(["model", "path", "runs", "tokens", "tok/s", "×bare", "decode tok/s", "×bare",
                         "TTFT ms", "+TTFT ms vs bare"], rows1))
        if rows2:
            print("\nPart 2: simultaneous sessions, aggregate throughput")
            print(table(["model", "sessions", "server", "tokens", "aggregate tok/s", "TTFT p50 ms", "TTFT max ms",
                         "wall s"], rows2))
        footer(t_start)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
