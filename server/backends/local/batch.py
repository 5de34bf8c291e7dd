"""transformers' continuous batching for the local model: rows in, token ids out, each row with its own end."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ...errors import BackendError
from .jobs import Ended, Failed, Job
from .loader import first_line

if TYPE_CHECKING:
    from .rows import RowBatch

log = logging.getLogger(__name__)

# Tokens per KV-cache page, as in transformers serve: Gemma, 4 and 8 sessions made 24.97 and 40.58
# tokens/s with pages of 256 vs 22.40 and 37.16 with pages of 32 (bench/RESULTS.md, back-to-back runs).
PAGE = 256
# Longest row (prompt + reply) the batch holds; longer requests run alone through generate(). The
# cache is allocated (and resident) whole when the batch is made: 8 rows of 2,048 tokens are 590 MB
# for Gemma 3 270M in float32. Each step's cost grows with the number of pages on CPU (Gemma, 4 rows:
# 1,026 pages of 32 tokens made steps 1.7x slower than 258).
ROW_TOKENS = 2048
MEMORY_SHARE = 0.25  # of the memory free at start-up that the KV cache may take
FAILED = "The local model failed while generating; see the server log."


def kv_bytes_per_token(model) -> int:
    """Bytes of KV cache one token takes in every layer of this model."""
    cfg = model.config.get_text_config()
    heads = getattr(cfg, "num_key_value_heads", None) or cfg.num_attention_heads
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    return 2 * cfg.num_hidden_layers * heads * head_dim * model.dtype.itemsize


def free_memory(device: str) -> int:
    """Bytes free for the cache on this device now."""
    if device.startswith("cuda"):
        import torch

        return torch.cuda.mem_get_info()[0]
    import psutil

    return psutil.virtual_memory().available


def row_tokens(model, rows: int, context: int, device: str) -> int:
    """Tokens each of `rows` rows may hold: ROW_TOKENS, less where the model or the memory is smaller."""
    budget = int(free_memory(device) * MEMORY_SHARE) // (rows * kv_bytes_per_token(model))
    return max(0, min(ROW_TOKENS, context, budget)) // PAGE * PAGE


@dataclass
class _Row:
    job: Job
    max_new: int  # tokens this row may still generate
    before: int  # tokens generated before it joined (a reply moved over from generate())
    sent: int = 0  # of the manager's generated tokens, those passed on


class Batch:
    """Up to `size` requests decoded together; each row stops, ends or fails on its own."""

    def __init__(self, model, tokenizer, eos_ids: list[int], size: int, row_tokens: int):
        self.eos_ids = eos_ids
        self.rows: dict[str, _Row] = {}
        self.mgr = self._start_manager(model, tokenizer, size, row_tokens)

    @property
    def busy(self) -> int:
        """Rows running now."""
        return len(self.rows)

    def add(self, job, ids: list[int], max_new: int, sampling: dict, before: int = 0) -> None:
        """Start a row at the next step; `before` tokens of its reply were already streamed."""
        rid = f"r{id(job)}-{time.monotonic_ns()}"
        guard = job.guard
        if guard is not None:  # its first call shows the prompt's (or the moved reply's) last token
            guard.tokens, guard.fresh = list(ids[len(ids) - before:]) if before else [], True
            self.mgr.logit_processor.guards[rid] = guard
        self.mgr.add_request(ids, request_id=rid, max_new_tokens=max_new, streaming=True,
                             eos_token_id=self.eos_ids, **sampling)
        self.rows[rid] = _Row(job, max_new, before)

    def step(self, wait: float = 0.02) -> list:
        """Pass on the tokens made within `wait` seconds; return the jobs whose rows ended (their last item sent)."""
        ended = []
        for rid, row in list(self.rows.items()):
            if row.job.stopped():  # the others go on; the manager frees this row's cache at its next step
                self.mgr.cancel_request(rid)
                self.mgr.logit_processor.guards.pop(rid, None)
                ended.append(self.rows.pop(rid).job)
        if not self.mgr.is_running():
            for row in self.rows.values():
                row.job.out.put(Failed(BackendError("unavailable", FAILED)))
                ended.append(row.job)
            self.rows.clear()
            self.mgr.logit_processor.guards.clear()
            return ended
        deadline = time.monotonic() + wait
        while True:
            out = self.mgr.get_result(timeout=max(0.0, deadline - time.monotonic()))
            if out is None:
                return ended
            if out.request_id not in self.rows:
                continue  # a cancelled row's last words
            row = self.rows[out.request_id]
            tokens = out.generated_tokens
            if len(tokens) > row.sent and not row.job.stopped():
                row.job.give(list(tokens[row.sent:]))
                row.sent = len(tokens)
            if out.is_finished():
                del self.rows[out.request_id]
                self.mgr.logit_processor.guards.pop(out.request_id, None)
                if out.error:
                    log.error("batched generation failed: %s", out.error)
                    row.job.out.put(Failed(BackendError("unavailable", FAILED)))
                else:
                    done = tokens and tokens[-1] in self.eos_ids
                    reason = "stop" if done or len(tokens) < row.max_new else "length"
                    row.job.out.put(Ended(reason, row.before + len(tokens)))
                ended.append(row.job)

    def settle(self, timeout: float = 2.0) -> None:
        """Wait until the manager holds no row, a stopped one included (it leaves at the next step).

        generate() must not run while the manager's thread still runs a step: each forward pass sets
        the model config's is_causal for its own duration, and with two at once generate() was left
        with a bidirectional mask (Gemma, after a batch: "The capital of Italy." for France).
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            processor = getattr(self.mgr, "batch_processor", None)
            pending = processor is not None and processor.scheduler.has_pending_requests()
            if not pending and self.mgr.cancel_queue.empty():
                return
            time.sleep(0.002)

    def close(self) -> None:
        try:
            self.mgr.stop(block=False, hard_stop=True)
        except Exception as e:
            log.debug("stopping the batch manager: %s", e)

    def _start_manager(self, model, tokenizer, size: int, row_tokens: int):
        """A manager whose loop runs in a real OS thread, with its cache sized for `size` rows of `row_tokens`."""
        import torch
        from transformers import GenerationConfig
        from transformers.generation.configuration_utils import ContinuousBatchingConfig
        from transformers.generation.continuous_batching import continuous_api, scheduler, utils

        from ... import concurrency
        from .sampling import RowSampler
        from .two_stage import head_of

        # transformers starts its loop with threading.Thread and talks to it through queue.Queue,
        # threading.Event/Lock/Condition. Under eventlet those names are green: the loop would run
        # torch on the hub's OS thread, and an OS thread cannot wait on a green primitive. Point the
        # package's module globals at the unpatched modules (a no-op when nothing is patched).
        for mod in (continuous_api, scheduler, utils):
            if hasattr(mod, "threading"):
                mod.threading = concurrency.real_threading
            if hasattr(mod, "queue"):
                mod.queue = concurrency.real_queue
        attn = model.config._attn_implementation or ""
        if attn != "sdpa" and "flash" not in attn:
            # The manager would switch the model to paged attention, which generate() cannot use.
            raise RuntimeError(f"attention {attn!r} is not shared by generate() and continuous batching")
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self.eos_ids[0]
        # Greedy, with no processors of its own: RowSampler picks each row's token (sampled or not).
        gc = GenerationConfig(do_sample=False, eos_token_id=self.eos_ids, pad_token_id=pad, max_new_tokens=row_tokens)
        cbc = ContinuousBatchingConfig(
            page_size=PAGE, num_blocks=size * (row_tokens // PAGE) + 2, max_batch_tokens=256,
            max_requests_per_batch=size, allow_block_sharing=False, auto_switch_to_flash=False, use_cuda_graph=False,
        )
        with torch.inference_mode():
            mgr = model.init_continuous_batching(generation_config=gc, continuous_batching_config=cbc)
            mgr.logit_processor = RowSampler(head_of(model))  # read by the batch processor that start() builds
            mgr.start()
        return mgr


class LazyBatch:
    """The batch of one loaded model, made when first needed: on a CPU with a model decode.py knows, a RowBatch
    that serves a lone request too (its cache grows with its rows); elsewhere transformers' continuous batching,
    which a server that never has two requests at once never holds."""

    def __init__(self, loaded, size: int):
        from .decode import supported

        self.loaded = loaded
        self.size = size
        # --batch-size 1 keeps generate() for every request (the path the batch is tested against)
        self.lean = size > 1 and loaded.device == "cpu" and supported(loaded.model)
        # the Batch once made (worker thread); False where it cannot be had
        self.made: Batch | RowBatch | Literal[False] | None = None
        self.rows = row_tokens(loaded.model, size, loaded.context, loaded.device) if size > 1 else 0
        if 0 < self.rows < 256:
            log.warning("continuous batching off: memory for only %d tokens per row", self.rows)
            self.rows = 0

    def possible(self) -> bool:
        return self.made is not False and self.rows > 0

    def fits(self, prompt) -> bool:
        """Whether a prompt and its reply fit in one row."""
        return len(prompt.ids) + prompt.max_new <= self.rows

    def warm(self) -> None:
        """A RowBatch made now with its preamble kept (before the model is announced ready); nothing for other paths."""
        if not (self.lean and self.possible()):
            return
        from .rows import RowBatch

        made = self.get()
        if isinstance(made, RowBatch):
            try:
                made.warm()
            except Exception as e:  # the first prompt then makes it, as before
                log.warning("the preamble was not prefilled at load (%s)", first_line(e))

    def get(self) -> Batch | RowBatch | Literal[False]:
        """The Batch, made now if need be (worker thread only); False where it cannot be had."""
        if self.made is None:
            from .prompt import Prompter
            from .rows import RowBatch

            m = self.loaded
            try:
                self.made = (RowBatch(m.model, m.eos_ids, self.size, self.rows, Prompter(m).preamble())
                             if self.lean else Batch(m.model, m.tokenizer, m.eos_ids, self.size, self.rows))
                log.info("continuous batching on: up to %d requests at once, %d tokens each", self.size, self.rows)
            except Exception as e:
                log.warning("continuous batching unavailable (%s); serving one request at a time", first_line(e))
                self.made = False
        return self.made
