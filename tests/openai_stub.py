"""A small OpenAI-compatible HTTP server for what a real one cannot do on demand (401, 500, a cut stream).

The model name picks the behaviour: "words-N" streams N words, "slow-N" streams N words 50 ms apart,
"reasoner" streams reasoning_content then content, "cut" breaks off mid-stream, "hang" never answers,
"e401"/"e402"/"e429"/"e500" answer with that status, "say:TEXT" streams TEXT word by word,
"blob-N" streams N pieces of 8 KiB (piece i is the digit i % 10 repeated),
"extract" answers a grounded chat as a literal-minded instruction model: the clause of the system message's
passages that shares most of the question's words (Chinese by character pairs), first of ties, with its [n]
("not found" when none shares any);
"triples" answers a graph extraction prompt: each sentence of the passage made of three words separated by
spaces ("胃炎 症状 胃痛。") is one relation, sent as JSON in a code fence with text around it and a trailing
comma; "triples-slow" waits 0.4 s before answering. "reader-N" stands in for an instruction model that
trusts its context: it states fact [N] of its system prompt as a sentence, cited (the first fact when there are
fewer), or says it found nothing when there is no fact.
"""
from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Stub:
    """Runs the stub on a free loopback port; `requests` records every JSON body received."""

    def __init__(self):
        self.requests: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.hung_up: list[str] = []  # last user message of each stream a client closed mid-way
        self._cond = threading.Condition()
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_hung_up(self, message: str, timeout: float) -> bool:
        """True once the client of the stream answering `message` has closed it before its end."""
        with self._cond:
            return self._cond.wait_for(lambda: message in self.hung_up, timeout)

    def _record_hang_up(self, body: dict) -> None:
        with self._cond:
            self.hung_up.append(body["messages"][-1]["content"])
            self._cond.notify_all()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def _handler(stub):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path.rstrip("/").endswith("/models"):
                    body = {"object": "list",
                            "data": [{"id": m, "object": "model"} for m in ("words-5", "slow-200", "reasoner")]}
                    return self._json(200, body)
                self._json(404, {"error": {"message": "no such route"}})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                stub.requests.append(body)
                model = body.get("model", "")
                if model.startswith("e") and model[1:].isdigit():
                    return self._json(int(model[1:]),
                                      {"error": {"message": f"secret-detail sk-upstream-{model}", "type": "x"}})
                if model == "hang":
                    time.sleep(30)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    self._stream(model, body)
                except (BrokenPipeError, ConnectionResetError):
                    stub._record_hang_up(body)

            def _stream(self, model, body):
                if model == "reasoner":
                    pieces = [("reasoning_content", w) for w in ["Let ", "me ", "think."]] \
                        + [("content", w) for w in ["The ", "answer."]]
                elif model.startswith("say:"):
                    words = model[4:].split(" ")
                    pieces = [("content", w + (" " if i < len(words) - 1 else "")) for i, w in enumerate(words)]
                elif model == "cut":
                    pieces = [("content", f"w{i} ") for i in range(3)]
                elif model.startswith("triples"):
                    if model == "triples-slow":
                        time.sleep(0.4)
                    pieces = [("content", triples(body["messages"][-1]["content"]))]
                elif model.startswith("reader-"):
                    pieces = [("content", reader(body["messages"], int(model[7:])))]
                elif model == "extract":
                    pieces = [("content", extract(body["messages"]))]
                elif model.startswith("blob-"):
                    pieces = [("content", str(i % 10) * 8192) for i in range(int(model[5:]))]
                else:
                    n = int(model.split("-")[1]) if "-" in model else 5
                    pieces = [("content", f"w{i} ") for i in range(n)]
                delay = 0.05 if model.startswith("slow") else 0
                for i, (field, text) in enumerate(pieces):
                    self._event({"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": model,
                                 "choices": [{"index": 0, "delta": {field: text}, "finish_reason": None}]})
                    if delay:
                        time.sleep(delay)
                if model == "cut":
                    self.wfile.flush()
                    self.connection.shutdown(2)  # the link dies mid-reply, no [DONE]
                    return
                self._event({"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": model,
                             "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                self._event({"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": model, "choices": [],
                             "usage": {"prompt_tokens": 7, "completion_tokens": len(pieces),
                                       "total_tokens": 7 + len(pieces)}})
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _event(self, obj):
                self.wfile.write(b"data: " + json.dumps(obj).encode() + b"\n\n")
                self.wfile.flush()

            def _json(self, status, obj):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _grams(text: str) -> set[str]:
    """Latin words and Chinese character pairs of a text, lower-cased."""
    low = text.lower()
    out = set(re.findall(r"[a-z0-9]+", low))
    for run in re.findall(r"[\u4e00-\u9fff]+", low):
        out |= {run[i:i + 2] for i in range(len(run) - 1)}
    return out


def extract(messages: list[dict]) -> str:
    """The clause of the numbered passages (or evidence lines) most about the question, cited; or "not found"."""
    asked = _grams(messages[-1]["content"]) - set("the a an is of to at for in on how what who".split())
    best, n, score = "", 0, 0
    for m in re.finditer(r"^\[(\d+)\] \(.*?\)\s*(.*?)(?=^\[\d+\] \(|\Z)", messages[0]["content"], re.M | re.S):
        text = "\n".join(line for line in m.group(2).splitlines() if not line.startswith("#"))  # not headings
        for clause in re.split(r"[，；。！？,;!?\n]|\.(?=\s|$)", text):
            got = len(asked & _grams(clause))
            if got > score:
                best, n, score = clause.strip(), int(m.group(1)), got
    if not score:
        return "知识库中没有找到相关内容。" if re.search(r"[\u4e00-\u9fff]", messages[-1]["content"]) else "Not found."
    return f"{best} [{n}]"


def triples(passage: str) -> str:
    """A leniently formed extraction answer for the three-word sentences of a passage."""
    rels = [s.split() for s in re.split(r"[。.\n]", passage) if len(s.split()) == 3]
    data = {"entities": [{"name": h, "type": ""} for h, _, _ in rels],
            "relations": [{"head": h, "relation": r, "tail": t} for h, r, t in rels]}
    return "Here are the facts:\n```json\n" + json.dumps(data, ensure_ascii=False)[:-2] + ",]}\n```\nDone."


FACT_LINE = re.compile(r"^\[(\d+)\] \(fact\) (.+?) -(.+?)-> (.+)$", re.M)


def reader(messages: list[dict], n: int) -> str:
    """The answer of a model that believes fact [n] of its context: the end the question does not name."""
    question = messages[-1]["content"]
    system = messages[0]["content"] if messages[0]["role"] == "system" else ""
    facts = FACT_LINE.findall(system)
    zh = re.search(r"[\u4e00-\u9fff]", question)
    if not facts:
        return "资料中没有找到答案。" if zh else "The knowledge has no answer to that."
    k, head, relation, tail = facts[n - 1] if n <= len(facts) else facts[0]
    return f"{head}的{relation}是{tail} [{k}]。" if zh else f"The {relation} of {head} is {tail} [{k}]."


if __name__ == "__main__":
    s = Stub()
    print(s.url, flush=True)
    threading.Event().wait()
