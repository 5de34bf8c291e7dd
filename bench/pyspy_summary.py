"""Summarize a py-spy `--format raw` profile (collapsed stacks): where the samples went.

    python -m bench.pyspy_summary PROFILE.txt [--top 25] [--group server/chat/service.py:_relay ...]

Prints the top frames by self samples (the leaf), by inclusive samples (anywhere on the stack,
counted once per stack), and the share of samples under each of a few buckets that matter for
the relay: the upstream read (openai SDK), the relay's emit (python-socketio/engineio), waiting.
"""
from __future__ import annotations

import argparse
import re
from collections import Counter

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]+?)(?::(?P<line>\d+))?\)$")

# (bucket, predicate on one frame string); first match from the root wins for a stack.
BUCKETS = [
    ("upstream read: openai SDK stream parse (pydantic construct, SSE decode)", lambda f: "openai/_streaming.py" in f),
    ("upstream request setup: openai create() (transform, build request, connect)",
     lambda f: "Completions.create" in f),
    ("relay emit: socketio/engineio encode + send", lambda f: "ChatService._flush" in f or "ChatService._finish" in f),
    ("relay loop other (queue get, coalesce)", lambda f: "ChatService._relay" in f),
    ("websocket/engineio per-socket I/O (read loop, ping, writer)",
     lambda f: "engineio/" in f or "simple_websocket" in f or "wsproto" in f),
    ("socket.io event handlers (chat, connect)", lambda f: "server/web/events.py" in f),
    ("housekeeping", lambda f: "_housekeeping" in f),
]


def frame_key(f: str) -> str:
    m = FRAME.match(f)
    if not m:
        return f
    return f"{m['func']} ({m['file']})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("profile")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    self_c, incl = Counter(), Counter()
    buckets = Counter()
    total = idle = 0
    for line in open(args.profile):
        line = line.rstrip("\n")
        if not line:
            continue
        stack, _, n = line.rpartition(" ")
        n = int(n)
        frames = stack.split(";")[1:]  # first is the thread
        if not frames:
            continue
        total += n
        leaf = frames[-1]
        # Sampled while blocked in the hub / a lock / select: not CPU.
        if any(w in leaf for w in ("epoll", "select (", "wait (threading", "_wait_for_tstate_lock", "acquire",
                                   "poll (")):
            idle += n
        self_c[frame_key(leaf)] += n
        for k in {frame_key(f) for f in frames}:
            incl[k] += n
        for name, pred in BUCKETS:
            if any(pred(f) for f in frames):
                buckets[name] += n
                break
        else:
            buckets["other"] += n
    print(f"{args.profile}: {total} samples ({idle} with an idle-looking leaf)")
    print("\nbuckets (first match from the root):")
    for name, n in buckets.most_common():
        print(f"  {100 * n / total:5.1f}%  {name}")
    print(f"\ntop {args.top} by self samples:")
    for k, n in self_c.most_common(args.top):
        print(f"  {100 * n / total:5.1f}%  {k}")
    print(f"\ntop {args.top} by inclusive samples:")
    for k, n in incl.most_common(args.top):
        print(f"  {100 * n / total:5.1f}%  {k}")


if __name__ == "__main__":
    main()
