"""CPU the server's upstream read costs per chunk and per request, three ways, in this process.

    python -m bench.sdk_costs [--chunks 200] [--reps 15] [--history 1,21,41]

What server/backends/openai_compat.py does now (`client.chat.completions.create(stream=True)`,
one pydantic ChatCompletionChunk per SSE event) against two cheaper ways to read the same stream
with the same `openai.OpenAI` client (same base URL, key, timeout, error types):

  sdk-typed   create(..., stream=True) and attribute access on each chunk   (today)
  sdk-raw     client.post("/chat/completions", body=..., cast_to=object, stream=True,
              stream_cls=openai.Stream[object]): the SDK's HTTP, auth, errors and SSE decoder,
              but no request transform and no pydantic model per chunk (dicts out)
  httpx-lines the openai client's own httpx client: POST, iter_lines(), json.loads per `data:` line

Measured: process CPU time per request (an upstream in another process streams `--chunks`
chunks at once), split into "per request" (a 1-chunk stream) and "per chunk" (the slope), for
prompts of several history lengths (messages of ~300 characters). Ratios are against sdk-typed,
interleaved round by round.
"""
from __future__ import annotations

import argparse
import time

import openai

from .common import footer, header, pct, table, paced_upstream_and_servers
from .local_paths import delta_text, sse_events


def messages(n: int) -> list[dict]:
    text = "The quick brown fox jumps over the lazy dog, and then it does so again. " * 4
    out = []
    for i in range(n - 1):
        out.append({"role": "user" if i % 2 == 0 else "assistant", "content": f"{i} {text}"})
    out.append({"role": "user", "content": "hi"})
    return out


def sdk_typed(client, model, msgs):
    n = 0
    stream = client.chat.completions.create(model=model, messages=msgs, stream=True,
                                            stream_options={"include_usage": True}, max_tokens=4096)
    with stream:
        for ev in stream:
            if ev.choices:
                d = ev.choices[0].delta
                if getattr(d, "reasoning_content", None) or d.content:
                    n += 1
    return n


def sdk_raw(client, model, msgs):
    n = 0
    stream = client.post("/chat/completions", cast_to=object, stream=True, stream_cls=openai.Stream[object],
                         body={"model": model, "messages": msgs, "stream": True,
                               "stream_options": {"include_usage": True}, "max_tokens": 4096})
    with stream:
        for ev in stream:
            if delta_text(ev):
                n += 1
    return n


def httpx_lines(client, model, msgs):
    n = 0
    body = {"model": model, "messages": msgs, "stream": True, "stream_options": {"include_usage": True},
            "max_tokens": 4096}
    with client._client.stream("POST", str(client.base_url).rstrip("/") + "/chat/completions", json=body,
                               headers={"Authorization": f"Bearer {client.api_key}"}) as r:
        r.raise_for_status()
        for ev in sse_events(r.iter_lines()):
            if delta_text(ev):
                n += 1
    return n


WAYS = {"sdk-typed": sdk_typed, "sdk-raw": sdk_raw, "httpx-lines": httpx_lines}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chunks", type=int, default=200)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--history", default="1,21,41")
    args = ap.parse_args()
    header("sdk_costs: CPU per upstream request and per streamed chunk, "
           "as the server reads an OpenAI-compatible stream")
    t_start = time.monotonic()
    with paced_upstream_and_servers() as (url, _, _):
        client = openai.OpenAI(base_url=url, api_key="x", max_retries=0, timeout=30)
        hist = [int(x) for x in args.history.split(",")]
        cpu: dict[tuple, list[float]] = {}
        for way in WAYS.values():  # warm-up: imports, pools
            way(client, f"paced-{args.chunks}-0", messages(3))
        for _ in range(args.reps):
            for h in hist:
                msgs = messages(h)
                for n_chunks in (1, args.chunks):
                    model = f"paced-{n_chunks}-0"
                    for name, way in WAYS.items():
                        t = time.process_time()
                        got = way(client, model, msgs)
                        cpu.setdefault((name, h, n_chunks), []).append(time.process_time() - t)
                        assert got == n_chunks, (name, got)
        rows = []
        for h in hist:
            ref_req = pct(cpu[("sdk-typed", h, 1)], 50)
            ref_chunk = (pct(cpu[("sdk-typed", h, args.chunks)], 50) - ref_req) / (args.chunks - 1)
            for name in WAYS:
                req = pct(cpu[(name, h, 1)], 50)
                per_chunk = (pct(cpu[(name, h, args.chunks)], 50) - req) / (args.chunks - 1)
                rows.append([h, name, req * 1000, req / ref_req, per_chunk * 1e6, per_chunk / ref_chunk])
        print(table(["messages in prompt", "way", "CPU ms per request (p50)", "×sdk-typed",
                     "CPU µs per chunk", "×sdk-typed"], rows))
        footer(t_start)


if __name__ == "__main__":
    main()
