"""The built-in model on plain questions: share answered right, share ended by itself, role labels shown.

    python -m bench.questions [--server-root DIR] [--max-tokens 64] [--label NAME] [--page-defaults]

Starts `python run.py` with nothing configured (the built-in Gemma 3 270M, base) from this checkout,
or from DIR (another checkout, e.g. an older commit: `git archive COMMIT | tar -x -C DIR`), and asks
each question below once through POST /api/chat, greedy (do_sample false) or, with --page-defaults, with
the server's default sampling as the page gets it, in a new conversation.
A reply is right when it contains one of the question's accepted answers (a whole word for Latin
script, a substring for Chinese); it ended by itself when finish_reason is "stop" before max_tokens.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import time
import urllib.request

from server.backends.local.prompt import ASSISTANT, USER

from .common import BenchServer, footer, header, pct, table

# (question, accepted answers). A third are Chinese.
QUESTIONS = [
    ("Which planet is closest to the Sun?", ["mercury"]),
    ("What is the capital of France?", ["paris"]),
    ("What is the capital of Japan?", ["tokyo"]),
    ("How many days are in a week?", ["7", "seven"]),
    ("What is 2 plus 2?", ["4", "four"]),
    ("What is 7 times 8?", ["56"]),
    ("What color is the sky on a clear day?", ["blue"]),
    ("What is the largest ocean on Earth?", ["pacific"]),
    ("Who wrote Romeo and Juliet?", ["shakespeare"]),
    ("What is the freezing point of water in degrees Celsius?", ["0", "zero"]),
    ("How many legs does a dog have?", ["4", "four"]),
    ("What is the chemical symbol for gold?", ["au"]),
    ("What is the opposite of hot?", ["cold"]),
    ("How many continents are there?", ["7", "seven"]),
    ("What is 10 minus 3?", ["7", "seven"]),
    ("What is the capital of Germany?", ["berlin"]),
    ("Which gas do plants take from the air to make food?", ["carbon dioxide", "co2"]),
    ("What is the largest planet in the solar system?", ["jupiter"]),
    ("How many hours are in a day?", ["24", "twenty-four", "twenty four"]),
    ("What language is spoken in Brazil?", ["portuguese"]),
    ("What is 100 divided by 4?", ["25"]),
    ("In which country are the pyramids of Giza?", ["egypt"]),
    ("How many months are in a year?", ["12", "twelve"]),
    ("What is the boiling point of water in degrees Celsius?", ["100"]),
    ("一周有几天？", ["7", "七"]),
    ("中国的首都是哪里？", ["北京", "beijing"]),
    ("一年有几个月？", ["12", "十二"]),
    ("三加五等于几？", ["8", "八"]),
    ("太阳从哪个方向升起？", ["东", "east"]),
    ("水的沸点是多少摄氏度？", ["100", "一百"]),
    ("日本的首都是哪里？", ["东京", "tokyo"]),
    ("一天有多少小时？", ["24", "二十四"]),
    ("晴天的天空是什么颜色的？", ["蓝", "blue"]),
    ("地球上最大的海洋是什么？", ["太平洋", "pacific"]),
    ("十减四等于几？", ["6", "六"]),
    ("熊猫主要吃什么？", ["竹", "bamboo"]),
]
# What a reply must never show: a turn marker or role label of the prompt format.
LEAKS = ("<start_of_turn>", "<end_of_turn>", "User:", "Assistant:", "\nmodel\n", "\nuser\n", "\n" + USER,
         "\n" + ASSISTANT)


def right(reply: str, accepted: list[str]) -> bool:
    text = reply.lower()
    for a in accepted:
        if a.isascii():
            if re.search(r"(?<![a-z0-9])" + re.escape(a) + r"(?![a-z0-9])", text):
                return True
        elif a in reply:
            return True
    return False


def ask(url: str, question: str, max_tokens: int, greedy: bool) -> dict:
    """One non-streamed chat in a new conversation; a slow machine may take minutes."""
    params = {"max_tokens": max_tokens, **({"do_sample": False} if greedy else {})}
    data = json.dumps({"message": question, "params": params}).encode()
    req = urllib.request.Request(url + "/api/chat", data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read())


def main():
    p = argparse.ArgumentParser(prog="python -m bench.questions", description=__doc__.splitlines()[0])
    p.add_argument("--server-root", help="run run.py from this checkout instead of this one")
    p.add_argument("--max-tokens", type=int, default=32)
    p.add_argument("--label", default="this checkout")
    p.add_argument("--page-defaults", action="store_true",
                   help="send no sampling params, as the page does with its settings untouched (else greedy)")
    p.add_argument("--show", action="store_true", help="print every reply")
    # A flag, not CHAT_LOCAL_DTYPE: the bench's server drops every CHAT_ variable (tests/live.py), so rounds 10 and
    # 11's "int4" runs of this bench were int8-head's (bench/RESULTS.md, round 12).
    p.add_argument("--local-dtype", default="auto", help="the server's --local-dtype (auto, fp32, int8-head, int4...)")
    args = p.parse_args()
    t0 = time.monotonic()
    header("Built-in model on plain questions")
    server = BenchServer("--rate-per-minute", "0", "--rate-per-minute-ip", "0", "--local-dtype", args.local_dtype)
    if args.server_root:
        server.script = os.path.join(os.path.abspath(args.server_root), "run.py")
    server.env.pop("DEEPSEEK_API_KEY", None)
    server.env.pop("OPENAI_API_KEY", None)
    server.start(timeout=900)
    rows, results = [], []
    try:
        for q, accepted in QUESTIONS:
            t = time.monotonic()
            body = ask(server.url, q, args.max_tokens, not args.page_defaults)
            secs = time.monotonic() - t
            if not body.get("ok"):
                raise RuntimeError(f"{q!r}: {body}")
            reply = body["text"]
            tokens = (body.get("usage") or {}).get("completion_tokens") or 0
            r = {"q": q, "reply": reply, "right": right(reply, accepted), "tokens": tokens, "secs": secs,
                 "ended": body["finish_reason"] == "stop" and tokens < args.max_tokens,
                 "leak": any(m in reply for m in LEAKS), "zh": not q.isascii()}
            results.append(r)
            if args.show:
                print(f"{'OK ' if r['right'] else 'no '}{'end' if r['ended'] else 'len'} {q} -> {reply[:160]!r}",
                      flush=True)
    finally:
        server.stop()
    for name, rs in (("all", results), ("English", [r for r in results if not r["zh"]]),
                     ("Chinese", [r for r in results if r["zh"]])):
        n = len(rs)
        rows.append([args.label, name, n, f"{sum(r['right'] for r in rs)}/{n}", f"{sum(r['ended'] for r in rs)}/{n}",
                     f"{sum(r['leak'] for r in rs)}/{n}", pct([r["tokens"] for r in rs], 50),
                     pct([r["secs"] for r in rs], 50)])
    print(table(["server", "questions", "n", "right", "ended by itself", "shows a turn marker",
                 "tokens p50", "seconds p50"], rows))
    footer(t0)


if __name__ == "__main__":
    main()
