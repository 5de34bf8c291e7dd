"""The Backend protocol: a narrow generator of text chunks that knows nothing of sockets or history."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Protocol

from ..shapes import BackendInfo

# A params key the chat service sets on a reply grounded in the library, never a client: the numbers the
# reply may write. A local base model is held to them (local/number_guard.py); other backends ignore it.
ANSWER_NUMBERS = "answer_numbers"
# A params key the chat service sets, never a client, where the model takes images (--vision-models): the
# data: URLs of the pictures attached to the last user message. An OpenAI-compatible backend sends them as
# image_url content parts; other backends ignore it (the pictures' text is in the message already).
ATTACHED_IMAGES = "attached_images"


def with_images(messages: list[dict], images: list[str] | None) -> list[dict]:
    """The messages with the last one's text followed by those images, as OpenAI content parts."""
    if not images:
        return messages
    last = messages[-1]
    parts = [{"type": "text", "text": last["content"]}] \
        + [{"type": "image_url", "image_url": {"url": u}} for u in images]
    return messages[:-1] + [{**last, "content": parts}]


@dataclass
class Chunk:
    """One piece of a reply as a backend produces it."""

    text: str = ""
    kind: str | None = None  # None for answer text, "reasoning" for thinking text
    queued: int | None = None  # position in line while waiting for a shared model (1 = next)
    finish_reason: str | None = None  # "stop" or "length", on the last chunk when known
    usage: dict | None = None  # {prompt_tokens, completion_tokens}, when known


@dataclass
class Status:
    """What a client may want to know about a backend's model."""

    model_ready: bool = True
    progress: float | None = None  # 0..1 while loading
    message: str = ""  # e.g. "Loading model (35%)" or the load error
    error: bool = False


class Replier(Protocol):
    """What the chat service's relay calls on whatever answers a chat: a Backend, or a FixedReply."""

    name: str
    blocking: bool

    def stream(self, messages: list[dict], *, model: str, params: dict, cancel, budget: int) -> Iterator[Chunk]: ...


class Backend(Replier, Protocol):
    """A named source of streamed replies.

    stream() is a plain iterator; the caller runs it, times it and relays it.
    `budget` is the reply's room in tokens when params name no max_tokens: the backend
    fits the conversation to its context itself (dropping the oldest turns, never the
    system prompt or the last message), once, where it can count best.
    `cancel` is a real threading.Event: a backend checks it between chunks
    and stops soon after it is set. A backend with `blocking = True` (torch)
    is always iterated in a real OS thread; others may run in a green thread.
    Failures are raised as errors.BackendError with a message safe to show.
    """

    label: str  # a human name for pickers, e.g. "built-in demo model (Gemma 3 270M, base)"
    hint: str  # one line on getting a better model, or ""
    default_model: str

    def models(self) -> list[str]: ...

    def status(self) -> Status: ...

    def close(self) -> None: ...


class FixedReply:
    """A reply the server gives itself without asking a model (a question the knowledge base has nothing for)."""

    name = "server"
    blocking = False

    def __init__(self, text: str):
        self.text = text

    def stream(self, messages: list[dict], *, model: str, params: dict, cancel, budget: int) -> Iterator[Chunk]:
        yield Chunk(text=self.text, finish_reason="stop")


@dataclass
class Registry:
    """Live backends by name, and which one a chat gets when it names none."""

    backends: dict[str, Backend] = field(default_factory=dict)
    default: str | None = None

    def add(self, backend: Backend, default: bool = False) -> None:
        self.backends[backend.name] = backend
        if default or self.default is None:
            self.default = backend.name

    def get(self, name: str | None) -> Backend:
        from ..errors import ChatError

        name = self.default if name is None else name
        if name not in self.backends:
            live = ", ".join(self.backends) or "none"
            raise ChatError("unknown_backend", f"There is no backend named {name!r} on this server (live: {live}).")
        return self.backends[name]

    def describe(self) -> list[BackendInfo]:
        """The `backends` list of `ready` and GET /api/backends."""
        out: list[BackendInfo] = []
        for b in self.backends.values():
            st = b.status()
            out.append({
                "name": b.name,
                "label": b.label,
                "hint": b.hint,
                "models": b.models(),
                "default_model": b.default_model,
                "model_ready": st.model_ready,
                "status": st.message,
            })
            if hasattr(b, "tuned"):  # protocol 1.2: fine-tuned models, each with the model it was tuned from
                out[-1]["tuned"] = b.tuned()
        return out


def drop_oldest_turns(messages: list[dict], fits) -> list[dict]:
    """Drop the oldest user/assistant messages until fits(messages) holds.

    The system prompt (first, if any) and the newest message are always kept,
    and turns go in pairs so the history never starts with an assistant reply.
    """
    system = messages[:1] if messages and messages[0]["role"] == "system" else []
    rest = messages[len(system):]
    while len(rest) > 1 and not fits(system + rest):
        rest = rest[1:]
        while len(rest) > 1 and rest[0]["role"] != "user":
            rest = rest[1:]
    return system + rest


# A params key a graph build sets, never a client: {passage, relations} of a constrained extraction. The local
# backend holds its answer to JSON whose names are spans of the passage (local/span_guard.py); others ignore it.
EXTRACT_SPANS = "extract_spans"
