"""A tuned model's adapter on int4's 4-bit layers, which `auto` picks for a GGUF's model on AVX-512."""
from __future__ import annotations

from server.backends.local import LocalBackend, int4
from tests.local_backends import wait_ready
from tests.test_tuning_serving import answer, tiny  # noqa: F401


def test_an_adapter_on_the_4_bit_layers_changes_the_tuned_reply_alone(tiny):  # noqa: F811
    folder, adapter = tiny
    b = LocalBackend(folder, batch_size=4, dtype="int4")
    assert wait_ready(b, 120).model_ready, b.status()
    try:
        assert any(isinstance(m, int4.Int4Linear) for m in b.model.modules())
        base = answer(b, "tiny")
        b.add_tuned("tuned", adapter)
        tuned = answer(b, "tuned")
        # LoRA wraps the 4-bit layers themselves: the adapter's q, v and down projections sit on Int4Linear bases
        wrapped = [m for m in b.model.modules() if hasattr(m, "base_layer")]
        assert wrapped and all(isinstance(m.base_layer, int4.Int4Linear) for m in wrapped)
        assert tuned != base
        assert answer(b, "tiny") == base
    finally:
        b.close()
