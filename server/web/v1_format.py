"""OpenAI's wire format for /v1: request bodies in, chat.completion objects and chunks out; no Flask."""
from __future__ import annotations

from dataclasses import dataclass
import json
import time

from ..chat.schemas import bad, parse_params
from ..errors import ChatError

ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
# Fields OpenAI defines that no backend here can honour; accepted and ignored so that tools sending them work.
IGNORED = {"frequency_penalty", "presence_penalty", "logit_bias", "user", "metadata", "store", "service_tier",
           "parallel_tool_calls", "reasoning_effort", "modalities", "prediction", "safety_identifier",
           "prompt_cache_key", "verbosity"}
SAMPLING = {"temperature", "top_p", "top_k", "repetition_penalty"}
KNOWN = {"model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens", "stop", "seed", "n",
         "logprobs", "top_logprobs", "response_format", "tools", "tool_choice", "functions", "function_call"} \
    | SAMPLING | IGNORED
MAX_STOPS = 4  # as OpenAI
ERROR_TYPES = {401: "authentication_error", 429: "rate_limit_error"}


def error_body(code: str, message: str, status: int) -> dict:
    """OpenAI's error object; `code` is this server's protocol code (bad_request, too_long, ...)."""
    kind = ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


@dataclass
class Completion:
    """A checked /v1/chat/completions body."""

    model: str
    messages: list
    params: dict
    stream: bool
    include_usage: bool
    stops: list


def _text(content, i: int) -> str:
    """A message's content as text: a string, null, or a list of text parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise bad(f"messages[{i}].content: only text parts are supported here.")
            parts.append(part["text"])
        return "".join(parts)
    raise bad(f"messages[{i}].content must be a string or a list of text parts.")


def parse_messages(messages, max_chars: int, max_messages: int) -> list[dict]:
    if not isinstance(messages, list) or not messages:
        raise bad("'messages' must be a non-empty list of {role, content}.")
    if len(messages) > max_messages:
        raise ChatError("too_long", f"{len(messages)} messages; the limit is {max_messages}.")
    out = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            raise bad(f"messages[{i}].role must be one of {', '.join(ROLES)}.")
        text = _text(m.get("content"), i)
        if len(text) > max_chars:
            raise ChatError("too_long", f"messages[{i}] is {len(text)} characters long; the limit is {max_chars}.")
        if "\x00" in text:
            raise bad(f"messages[{i}] contains a NUL character.")
        out.append({"role": ROLES[m["role"]], "content": text})
    if not any(m["role"] == "user" and m["content"].strip() for m in out):
        raise bad("'messages' holds no user message with text.")
    return out


def _stops(stop) -> list[str]:
    if stop is None:
        return []
    stops = [stop] if isinstance(stop, str) else stop
    if not isinstance(stops, list) or len(stops) > MAX_STOPS or not all(isinstance(s, str) and s for s in stops):
        raise bad(f"'stop' must be a non-empty string or a list of up to {MAX_STOPS} of them.")
    return stops


def parse_completion(body, *, max_message_chars: int, max_messages: int, max_tokens_cap: int) -> Completion:
    """Check a request body; every failure is a ChatError with a readable message."""
    if not isinstance(body, dict):
        raise bad("Send a JSON object (Content-Type: application/json).")
    extra = sorted(str(k)[:40] for k in body if k not in KNOWN)
    if extra:
        raise bad(f"Unrecognized request argument: {', '.join(extra)}.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad("'model' is required: one of the ids GET /v1/models lists.")
    if body.get("n", 1) != 1:
        raise bad("Only n = 1 is supported.")
    if body.get("tools") or body.get("functions"):
        raise bad("Tools and function calling are not supported by this server.")
    if body.get("logprobs"):
        raise bad("logprobs are not supported by this server.")
    if (body.get("response_format") or {"type": "text"}).get("type") != "text":
        raise bad("Only response_format {type: text} is supported.")
    for flag in ("stream",):
        if not isinstance(body.get(flag, False), bool):
            raise bad(f"'{flag}' must be true or false.")
    options = body.get("stream_options") or {}
    if not isinstance(options, dict):
        raise bad("'stream_options' must be an object.")
    params = {k: body[k] for k in SAMPLING if body.get(k) is not None}
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if max_tokens is not None:
        params["max_tokens"] = max_tokens
    params = parse_params(params, max_tokens_cap)
    seed = body.get("seed")
    if seed is not None:
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise bad("'seed' must be a whole number.")
        params["seed"] = seed
    stops = _stops(body.get("stop"))
    if stops:
        params["stop"] = stops  # upstreams that take it stop there themselves; StopFilter stops the rest
    return Completion(model=model, messages=parse_messages(body.get("messages"), max_message_chars, max_messages),
                      params=params, stream=body.get("stream", False), include_usage=bool(options.get("include_usage")),
                      stops=stops)


class StopFilter:
    """Cuts streamed text at the first stop string, holding back a tail that might begin one."""

    def __init__(self, stops: list[str]):
        self.stops = stops
        self.hold = max((len(s) for s in stops), default=1) - 1
        self.buf = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        """The text that may go out now; after a stop string, nothing more."""
        if self.stopped:
            return ""
        self.buf += text
        hits = [i for i in (self.buf.find(s) for s in self.stops) if i >= 0]
        if hits:
            self.stopped = True
            out, self.buf = self.buf[:min(hits)], ""
            return out
        cut = max(0, len(self.buf) - self.hold)
        out, self.buf = self.buf[:cut], self.buf[cut:]
        return out

    def flush(self) -> str:
        out, self.buf = self.buf, ""
        return out


def estimate_tokens(text: str) -> int:
    """A rough count for usage a backend did not report (a reply cut short by a stop string)."""
    return (len(text) + 3) // 4


def usage_of(done: dict | None, messages: list, text: str) -> dict:
    usage = (done or {}).get("usage") or {}
    prompt = usage.get("prompt_tokens")
    completion = usage.get("completion_tokens")
    if prompt is None:
        prompt = estimate_tokens("".join(m["content"] for m in messages))
    if completion is None:
        completion = estimate_tokens(text)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def sse(obj) -> bytes:
    """One server-sent event."""
    return b"data: " + json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"


class Shape:
    """Builds the objects of one completion: same id, created time and model name in each."""

    def __init__(self, request_id: str, model: str, include_usage: bool = False):
        self.id = "chatcmpl-" + request_id
        self.created = int(time.time())
        self.model = model
        self.include_usage = include_usage
        # Every text chunk is this chunk with another delta: render the rest once, not per token.
        head, _, tail = sse(self.chunk({"content": ""})).partition(b'{"content":""}')
        self._head, self._tail = head, tail

    def text_event(self, key: str, text: str) -> bytes:
        """The SSE event of a chunk whose delta is {key: text}."""
        return self._head + json.dumps({key: text}, separators=(",", ":"), ensure_ascii=False).encode() + self._tail

    def _base(self, obj: str) -> dict:
        return {"id": self.id, "object": obj, "created": self.created, "model": self.model, "system_fingerprint": None}

    def chunk(self, delta: dict, finish_reason: str | None = None) -> dict:
        out = self._base("chat.completion.chunk")
        out["choices"] = [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]
        if self.include_usage:
            out["usage"] = None  # as OpenAI: null on every chunk but the last when include_usage is asked
        return out

    def usage_chunk(self, usage: dict) -> dict:
        out = self._base("chat.completion.chunk")
        out["choices"] = []
        out["usage"] = usage
        return out

    def completion(self, text: str, reasoning: str, finish_reason: str, usage: dict) -> dict:
        message = {"role": "assistant", "content": text, "refusal": None}
        if reasoning:
            message["reasoning_content"] = reasoning
        out = self._base("chat.completion")
        out["choices"] = [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}]
        out["usage"] = usage
        return out


def finish_reason(done_reason: str, stopped_by_string: bool) -> str:
    """OpenAI knows stop and length; a reply cut by a stop string or a client that left counts as stop."""
    return "length" if done_reason == "length" and not stopped_by_string else "stop"


def model_ids(registry) -> list[dict]:
    """`backend/model` for every model of every live backend, then the bare names no two backends share."""
    owned = [(b.name, m) for b in registry.backends.values() for m in b.models()]
    bare = [m for _, m in owned]
    out = [{"id": f"{name}/{m}", "object": "model", "created": 0, "owned_by": name} for name, m in owned]
    out += [{"id": m, "object": "model", "created": 0, "owned_by": name} for name, m in owned if bare.count(m) == 1]
    return out


def resolve_model(registry, name: str):
    """(backend, model) for a /v1 model id; an upstream API is asked for any model named after its backend."""
    prefix, _, rest = name.partition("/")
    backend = registry.backends.get(prefix)
    if rest and backend is not None and (rest in backend.models() or getattr(backend, "any_model", False)):
        return backend, rest
    owners = [b for b in registry.backends.values() if name in b.models()]
    if len(owners) == 1:
        return owners[0], name
    if owners:
        raise bad(f"Several backends serve {name[:80]!r}: name one, e.g. {owners[0].name}/{name[:80]}.")
    raise ChatError("not_found", f"The model {name[:80]!r} does not exist here; GET /v1/models lists the ones that do.")
