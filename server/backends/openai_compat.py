"""Any OpenAI-compatible chat API: DeepSeek, OpenAI, vLLM, Ollama, `transformers serve`."""
from __future__ import annotations

import logging
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import openai

from ..errors import BackendError
from .base import ATTACHED_IMAGES, Chunk, Status, drop_oldest_turns, with_images
from .sse_http import HttpStatusError, SseResponse, Unreachable

log = logging.getLogger(__name__)

DEEPSEEK_MODELS = ["deepseek-chat", "deepseek-reasoner"]
# Sampling knobs outside OpenAI's own API: only self-hosted servers (vLLM, Ollama...) take them.
EXTRA_PARAMS = ("top_k", "repetition_penalty")
CHARS_PER_TOKEN = 3  # a cautious estimate when no tokenizer is at hand


class OpenAICompatBackend:
    """Streams chat completions from one OpenAI-compatible base URL."""

    blocking = False  # network I/O: fine in a green thread
    any_model = True  # /v1 passes on any model named after this backend: the upstream may have more than it lists

    def __init__(self, name: str, base_url: str | None, api_key: str | None, *, models: list[str] | None = None,
                 default_model: str | None = None, timeout: float = 60.0, context_tokens: int = 64000):
        self.name = name
        self.base_url = base_url
        url = urlsplit(base_url or "")
        self.host = url.netloc if base_url else "api.openai.com"
        self._official = self.host.endswith(("openai.com", "deepseek.com"))
        # Read by sse_http rather than the SDK: plain HTTP that no proxy setting (HTTP_PROXY) sends elsewhere.
        self._plain = url.scheme == "http" and not (getproxies().get("http") and not proxy_bypass(url.hostname or ""))
        self.api_key, self.timeout = api_key, timeout
        self.label = "DeepSeek" if self.host.endswith("deepseek.com") else f"OpenAI-compatible server ({self.host})"
        self.hint = ""
        self._models = list(models or [])
        self.default_model = default_model or (self._models[0] if self._models else "")
        self.context_tokens = context_tokens
        # max_retries=0: a user waiting on a phone wants the error now, not after silent retries.
        self.client = openai.OpenAI(api_key=api_key or "no-key", base_url=base_url, timeout=timeout, max_retries=0)

    def discover_models(self) -> None:
        """Ask the server which models it has, when none were configured (vLLM, Ollama, transformers serve)."""
        if self._models:
            return
        try:
            found = [m.id for m in self.client.with_options(timeout=5).models.list()]
        except Exception as e:  # the server may be down now and up later: chats will say so
            log.warning("could not list models at %s: %s", self.host, type(e).__name__)
            return
        self._models = found
        self.default_model = self.default_model or (found[0] if found else "")

    def models(self) -> list[str]:
        return list(self._models) or ([self.default_model] if self.default_model else [])

    def status(self) -> Status:
        return Status(model_ready=True)

    def fit(self, messages: list[dict], budget: int) -> list[dict]:
        """Drop the oldest turns until the conversation, by a cautious estimate, leaves `budget` tokens."""
        room = (self.context_tokens - budget) * CHARS_PER_TOKEN
        return drop_oldest_turns(messages, lambda ms: sum(len(m["content"]) for m in ms) <= room)

    def _request_args(self, model: str, params: dict) -> dict:
        """Sampling fields of the request body."""
        args = {}
        for key in ("temperature", "top_p", "max_tokens", "seed", "stop"):
            if key in params:
                args[key] = params[key]
        if params.get("do_sample") is False:
            args["temperature"] = 0  # greedy, as close as the API gets
        if not self._official:
            args.update({k: params[k] for k in EXTRA_PARAMS if k in params})
        return args

    def stream(self, messages, *, model, params, cancel, budget: int = 0):
        """Yield chunks of the reply; leaving the `with` closes the HTTP stream (that is Stop)."""
        if not model:
            raise BackendError("bad_request", f"No model is set for {self.name}; choose one in the settings.")
        messages = with_images(self.fit(messages, params.get("max_tokens") or budget), params.get(ATTACHED_IMAGES))
        body = {"model": model, "messages": messages, "stream": True, "stream_options": {"include_usage": True},
                **self._request_args(model, params)}
        try:
            finished = False
            with self._events(body) as events:
                for event in events:
                    if cancel.is_set():
                        return
                    chunk = self._chunk(event)
                    if chunk is not None:
                        finished = finished or bool(chunk.finish_reason)
                        yield chunk
            if not finished and not cancel.is_set():
                # Every compatible server ends with a finish_reason; a stream that just stops was cut.
                raise BackendError("unavailable",
                                   f"The connection to {self.name} broke off mid-reply. Send again to retry.")
        except BackendError:
            raise
        except (openai.APIError, HttpStatusError, TimeoutError, Unreachable) as e:
            raise self._reword(e, model) from None
        except Exception as e:  # a broken stream surfaces as the HTTP library's own errors
            log.warning("stream from %s broke: %s", self.host, type(e).__name__)
            raise BackendError("unavailable",
                               f"The connection to {self.name} broke off mid-reply. Send again to retry.") from None

    def _events(self, body: dict):
        """The upstream's stream of event dicts: read off the socket for http://, through the SDK otherwise."""
        if self._plain and self.base_url:  # plain http:// has a base URL
            return SseResponse(self.base_url, "/chat/completions", body, self.api_key, self.timeout)
        # Plain dicts rather than the SDK's typed chunks: building a pydantic model per SSE event
        # was 60% of the server's CPU with 50 clients (bench/RESULTS.md). Same client, errors, SSE.
        return self.client.post("/chat/completions", body=body, cast_to=object, stream=True,
                                stream_cls=openai.Stream[object])

    @staticmethod
    def _chunk(event: dict) -> Chunk | None:
        usage = event.get("usage")
        if usage:
            usage = {"prompt_tokens": usage.get("prompt_tokens"), "completion_tokens": usage.get("completion_tokens")}
        choices = event.get("choices") or []
        if not choices:
            return Chunk(usage=usage) if usage else None
        choice = choices[0]
        delta = choice.get("delta") or {}
        # DeepSeek says reasoning_content; vLLM and Ollama say reasoning.
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if reasoning:
            return Chunk(text=reasoning, kind="reasoning", finish_reason=choice.get("finish_reason"), usage=usage)
        return Chunk(text=delta.get("content") or "", finish_reason=choice.get("finish_reason"), usage=usage)

    def _reword(self, e: Exception, model: str) -> BackendError:
        """A sentence for the user, from the SDK's errors or sse_http's; never the raw upstream body."""
        where = f"{self.name} ({self.host})"
        if isinstance(e, (openai.APITimeoutError, TimeoutError)):
            return BackendError("unavailable", f"{where} did not answer in time. Try again in a moment.")
        if isinstance(e, (openai.APIConnectionError, Unreachable)):
            log.warning("could not reach %s: %s", self.host, type(e).__name__ if isinstance(e, openai.APIError) else e)
            return BackendError("unavailable", f"Could not reach {where}. Is it running, and is the address right?")
        status = e.status if isinstance(e, HttpStatusError) else getattr(e, "status_code", None)
        log.warning("%s answered HTTP %s", self.host, status)
        if status in (401, 403):
            return BackendError("unavailable", f"{where} refused the API key. Check the key set on the server.")
        if status == 402:
            return BackendError("unavailable", f"{where} says the account has no balance left.")
        if status == 404:
            return BackendError("not_found", f"{where} has no model {model[:80]!r}.")
        if status == 429:
            return BackendError("rate_limited", f"{where} is rate-limiting requests. Wait a moment and send again.")
        if status in (400, 413, 422):
            return BackendError("bad_request",
                                f"{where} refused the request (HTTP {status}); the conversation may be too long or a "
                                "setting out of range.")
        if status and status >= 500:
            return BackendError("unavailable", f"{where} failed (HTTP {status}). Try again in a moment.")
        return BackendError("unavailable", f"{where} broke off the reply. Send again to retry.")

    def close(self) -> None:
        self.client.close()
