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
import os
import shutil
import tempfile
import time

from .common import footer, BenchServer, header, pct, table
from .local_paths import Bare, Serve, concurrent, gemma_folder, rates, server_stream, sse_stream


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
