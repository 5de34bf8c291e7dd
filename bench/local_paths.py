"""The paths bench/local_model.py measures: a bare `generate` worker, our server, `transformers serve`, and readers."""
from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

from .common import BenchServer, free_port, http_json, pct

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
    for ev in sse_events(raw.decode() for raw in resp):
        if ev.get("usage"):
            usage = ev["usage"].get("completion_tokens")
        if delta_text(ev, reasoning=False):
            t = time.monotonic()
            first = first or t
            last = t
            events += 1
    conn.close()
    return {"t0": t0, "first": first, "last": last, "n": usage or events}


def sse_events(lines):
    """The JSON events of an OpenAI-style SSE stream, from its lines (str), up to `data: [DONE]`."""
    for line in lines:
        line = line.strip()
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        yield json.loads(data)


def delta_text(ev: dict, reasoning: bool = True) -> str:
    """A chunk's new text (its first choice's delta content, or with `reasoning` its reasoning_content too)."""
    choices = ev.get("choices")
    d = (choices[0].get("delta") or {}) if choices else {}
    return (d.get("reasoning_content") or "" if reasoning else "") + (d.get("content") or "")


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
