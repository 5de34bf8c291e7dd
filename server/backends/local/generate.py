"""The generate() path: one reply alone on the model, its sampling settings, its stop and its move into the batch."""
from __future__ import annotations

import copy
import logging
from dataclasses import dataclass

from ...errors import BackendError
from .jobs import Ended, Job
from .loader import Loaded, first_line

log = logging.getLogger(__name__)


def samples(loaded: Loaded, params: dict) -> bool:
    """Whether a request samples; greedy when do_sample is false or temperature is 0."""
    asked = params.get("do_sample")
    if asked is None:
        # A base model (transcript) answers greedy unless a request asks for sampling: the built-in Gemma
        # at its default temperature 1 answered 6-9 of 36 plain questions right, greedy 22 (bench/RESULTS.md).
        asked = not loaded.transcript or any(params.get(k) is not None for k in ("temperature", "top_k", "top_p"))
    return bool(asked and params.get("temperature") != 0)


def sampling(loaded: Loaded, params: dict) -> dict:
    """A request's temperature/top_k/top_p/repetition_penalty, falling back to the model's generation config."""
    gc = loaded.model.generation_config
    pick = lambda key: params[key] if params.get(key) is not None else getattr(gc, key, None)  # noqa: E731
    return {"do_sample": samples(loaded, params), "temperature": pick("temperature"), "top_k": pick("top_k"),
            "top_p": pick("top_p"), "repetition_penalty": pick("repetition_penalty")}


@dataclass
class Moved:
    """generate() paused for a newcomer: the reply goes on in the batch after these tokens."""

    made: list[int]


def generation_config(loaded: Loaded, params: dict, max_new: int):
    """Map protocol params onto generate()'s config; greedy when do_sample is false or temperature is 0."""
    gc = copy.deepcopy(loaded.model.generation_config)
    gc.max_new_tokens = max_new
    gc.max_length = None
    gc.eos_token_id = loaded.eos_ids
    if gc.pad_token_id is None:
        pad = loaded.tokenizer.pad_token_id
        gc.pad_token_id = pad if pad is not None else loaded.eos_ids[0]
    gc.do_sample = samples(loaded, params)
    if gc.do_sample:
        for key in ("temperature", "top_p", "top_k"):
            if params.get(key) is not None:
                setattr(gc, key, params[key])
    else:  # unset sampling knobs, or generate warns that they do nothing
        gc.temperature = gc.top_p = gc.top_k = None
    if params.get("repetition_penalty") is not None:
        gc.repetition_penalty = params["repetition_penalty"]
    return gc


def run_alone(loaded: Loaded, job: Job, yield_to=None):
    """Generate a prepared job's reply with generate(), its ids handed over as they come; Ended or Moved.

    With `yield_to`, generation also pauses at the next token once yield_to() is true, and returns
    Moved(tokens so far) for the reply to go on in the batch. The job's stop (cancel, or its stream
    seeing the end of a transcript turn) ends generate() at the next token.
    """
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList
    from transformers.generation.streamers import BaseStreamer

    ids, max_new = job.fitted().ids, job.fitted().max_new

    class Streamer(BaseStreamer):
        """Passes new token ids to the job (TextIteratorStreamer's queue may be green)."""

        prompt_seen = False

        def put(self, value):
            if not self.prompt_seen:  # generate() first hands over the prompt
                self.prompt_seen = True
                return
            job.give(value.reshape(-1).tolist())

        def end(self):
            pass

    class Stop(StoppingCriteria):
        """Ends generate() at the next token once the request is stopped or must yield."""

        yielded = False

        def __call__(self, input_ids, scores, **kwargs):
            stop = job.stopped()
            if not stop and yield_to is not None and yield_to():
                stop = self.yielded = True
            return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)

    stop = Stop()
    inputs = torch.tensor([ids], device=loaded.device)
    gc, chosen = generation_config(loaded, job.params, max_new), processors(job, len(ids), loaded)
    if gc.do_sample and loaded.device == "cpu":
        chosen = drawn(gc, chosen)
    with torch.inference_mode():
        out = loaded.model.generate(
            input_ids=inputs, attention_mask=torch.ones_like(inputs), streamer=Streamer(),
            stopping_criteria=StoppingCriteriaList([stop]), logits_processor=chosen, generation_config=gc,
        )
    new = out[0, len(ids):].tolist()
    finished = bool(new) and new[-1] in loaded.eos_ids
    if not finished and len(new) >= max_new:
        return Ended("length", len(new))
    if not finished and stop.yielded and not job.stopped():
        return Moved(new)
    return Ended("stop", len(new))


def processors(job: Job, prompt_len: int, loaded: Loaded | None = None):
    """The job's own logits processors: the number guard of a grounded base model's reply, and for a greedy
    reply of a two-stage output layer its exact pick (two_stage.refine_processor), last."""
    from transformers import LogitsProcessorList

    from .number_guard import guard_processor
    from .two_stage import refine_processor

    found = [guard_processor(job.guard, prompt_len)] if job.guard is not None else []
    if loaded is not None and not samples(loaded, job.params):
        penalty = job.params.get("repetition_penalty") or loaded.model.generation_config.repetition_penalty
        found += [p for p in [refine_processor(loaded.model, penalty)] if p]
    return LogitsProcessorList(found) if found else None


def drawn(gc, chosen):
    """Sample in a processor of ours and let generate() take the argmax: its warpers sort every logit (top-p) and
    draw over all of them, 10 + 11 ms a token for Gemma's 262,144 on one core; sampling.draw_tokens gives the
    same distribution from the top-k alone (bench/RESULTS.md, "Where a decode step goes"). gc is changed."""
    import torch
    from transformers import LogitsProcessor, LogitsProcessorList

    from .sampling import draw_tokens, row_kwargs

    row = row_kwargs(True, gc.temperature, gc.top_k, gc.top_p)
    settings = [torch.tensor([row[k]]) for k in ("temperature", "top_k", "top_p")]

    class Drawn(LogitsProcessor):  # after the repetition penalty and the guard, as generate()'s warpers are
        def __call__(self, input_ids, scores):
            rows, tokens = draw_tokens(scores, *settings)
            if rows.numel():  # (none where top_k 1 made the row greedy)
                scores[rows] = float("-inf")
                scores[rows, tokens] = 0.0
            return scores

    gc.do_sample, gc.temperature, gc.top_p, gc.top_k = False, None, None, None
    return LogitsProcessorList([*(chosen or []), Drawn()])


def generation_error(e: BaseException) -> BackendError:
    """A sentence for the user about a failure while generating."""
    import torch

    if isinstance(e, (MemoryError, torch.OutOfMemoryError)):
        return BackendError("unavailable",
                            "The local model ran out of memory; try a shorter conversation or a smaller max_tokens.")
    log.exception("local generate failed")
    return BackendError("unavailable", f"The local model failed while generating: {first_line(e)}")
