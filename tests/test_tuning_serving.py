"""Tuned models on the local backend: an adapter on the one model, switched per request, beside batched base rows."""
from __future__ import annotations

import threading
import time

import pytest

from server.backends.local import LocalBackend
from tests.tinymodel import build

QUESTION = [{"role": "user", "content": "Where is the market?"}]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny endless model and a LoRA adapter for it whose weights are not zero (an untrained one changes nothing)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    root = tmp_path_factory.mktemp("tiny-serve")
    folder = build(str(root / "tiny"), endless=True)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(folder),
                           LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"]))
    torch.manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)
    model.save_pretrained(str(root / "adapter"))
    return folder, str(root / "adapter")


def answer(backend, model: str) -> str:
    chunks = backend.stream(QUESTION, model=model, params={"max_tokens": 10, "temperature": 0},
                            cancel=threading.Event())
    return "".join(c.text or "" for c in chunks)


def test_a_tuned_model_answers_beside_the_base_without_a_second_copy(tiny):
    folder, adapter = tiny
    b = LocalBackend(folder, batch_size=4)
    b.start()
    deadline = time.monotonic() + 120
    while not b.status().model_ready:
        assert time.monotonic() < deadline and not b.status().error, b.status()
        time.sleep(0.05)
    try:
        params_before = sum(p.numel() for p in b.model.parameters())
        base = answer(b, "tiny")
        b.add_tuned("tuned", adapter)
        assert b.models() == ["tiny", "tuned"] and b.tuned() == [{"model": "tuned", "tuned_from": "tiny"}]
        tuned = answer(b, "tuned")
        assert tuned != base
        assert answer(b, "tiny") == base  # the adapter is off again for the base model
        # Only the adapter's own weights were added: no second copy of the base model.
        added = sum(p.numel() for p in b.model.parameters()) - params_before
        assert 0 < added < params_before / 10

        results: dict[int, str] = {}
        order = ["tiny", "tuned", "tiny", "tiny", "tuned", "tiny"]
        threads = [threading.Thread(target=lambda i=i, m=m: results.__setitem__(i, answer(b, m)))
                   for i, m in enumerate(order)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert [results[i] for i in range(len(order))] == [tuned if m == "tuned" else base for m in order]

        b.remove_tuned("tuned")
        assert b.models() == ["tiny"] and b.tuned() == []
        assert answer(b, "tuned") == base  # an unknown model name gets the backend's own model, as before
    finally:
        b.close()
