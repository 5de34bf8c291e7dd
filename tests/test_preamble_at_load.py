"""The kept preamble is made when the model loads: the first request's prompt starts after it, with the same values."""
from __future__ import annotations

import torch

from server.backends.local import loader
from server.backends.local.decode import Decoder
from server.backends.local.prompt import Prompter
from server.backends.local.rows import RowBatch
from server.backends.local.scheduler import Scheduler
from tests.tinymodel import build


def _loaded(tmp_path, base: bool):
    path = build(str(tmp_path / ("base" if base else "chat")), base=base, max_positions=4096)
    return loader.load(path, "cpu", str(tmp_path / "cache"), "tiny", lambda *a: None, "fp32")


def _tokens_per_forward(decoder: Decoder) -> list[int]:
    """Record how many tokens each forward pass of the decoder is given (its inputs' last dimension)."""
    seen: list[int] = []
    forward = decoder._forward

    def counted(ids, *a, **kw):
        seen.append(ids.shape[-1])
        return forward(ids, *a, **kw)

    decoder._forward = counted  # type: ignore[method-assign]
    return seen


def test_a_base_model_is_ready_with_its_preamble_made_and_the_first_prompt_starts_after_it(tmp_path):
    loaded = _loaded(tmp_path, base=True)
    sched = Scheduler("tiny", batch_size=4, threads=1)
    sched.ready(loaded)
    assert sched.batch is not None
    batch = sched.batch.made
    assert isinstance(batch, RowBatch)
    warm = batch.decoder
    preamble = Prompter(loaded).preamble()
    assert len(warm.kept) == 2 * len(warm.layers) and warm.kept[0].shape[1] == len(preamble)
    assert warm.rows == 0  # an idle server holds no cache beside the kept preamble
    ids = Prompter(loaded).prepare([{"role": "user", "content": "How do I cook rice?"}], 16).ids
    seen = _tokens_per_forward(warm)
    cold = Decoder(loaded.model, 512, preamble)
    with torch.inference_mode():
        got, want = warm.prefill(0, [ids]), cold.prefill(0, [ids])
    assert seen == [len(ids) - len(preamble)]  # the first request's one forward: its own tokens only
    assert torch.equal(got, want)  # what a preamble made by the first request gives, bit for bit


def test_a_chat_model_has_no_preamble_to_make(tmp_path):
    sched = Scheduler("tiny", batch_size=4, threads=1)
    sched.ready(_loaded(tmp_path, base=False))
    assert sched.batch is not None
    batch = sched.batch.made
    assert isinstance(batch, RowBatch) and batch.decoder.kept == [] and batch.decoder.rows == 0
