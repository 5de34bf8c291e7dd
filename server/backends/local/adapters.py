"""Tuned models of the local model: LoRA adapters loaded by name onto the one model in memory (no second copy).

A request for a tuned model runs alone through generate(), with its adapter switched on for it and off
after it; batch rows always run the plain model. The batch drains before such a request starts, and
base requests that come meanwhile wait behind it (scheduler._pick): one adapter per forward pass, never
a mix. Loading adds the adapter's own weights only (r=16 on every projection of Gemma 3 270M: 15 MB).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from ...concurrency import RealLock
from ...errors import BackendError
from .loader import first_line

log = logging.getLogger(__name__)


@dataclass
class Tuned:
    """One tuned model: the name clients choose, its adapter folder, the model it was tuned from."""

    name: str
    path: str
    tuned_from: str
    key: str  # the adapter's name inside the model: unique per folder served, so a new job of an old name reloads


class Adapters:
    """The tuned models served, and which adapters the model holds (changed on the worker thread only)."""

    def __init__(self):
        self.lock = RealLock()
        self.served: dict[str, Tuned] = {}
        self.count = 0
        self.loaded: set[str] = set()  # keys loaded into the model (worker thread)
        self.retired: set[str] = set()  # keys no longer served, dropped from the model at its next turn
        self.active: str | None = None

    def add(self, name: str, path: str, tuned_from: str) -> None:
        with self.lock:
            self.count += 1
            old = self.served.get(name)
            if old:
                self.retired.add(old.key)
            self.served[name] = Tuned(name, path, tuned_from, f"tuned{self.count}")

    def remove(self, name: str) -> None:
        with self.lock:
            old = self.served.pop(name, None)
            if old:
                self.retired.add(old.key)

    def names(self) -> list[str]:
        with self.lock:
            return list(self.served)

    def describe(self) -> list[dict]:
        with self.lock:
            return [{"model": t.name, "tuned_from": t.tuned_from} for t in self.served.values()]

    def get(self, name: str | None) -> Tuned | None:
        with self.lock:
            return self.served.get(name) if name else None

    def use(self, model, tuned: Tuned | None) -> None:
        """Switch the model to this tuned model's adapter, or to none (worker thread, the model idle)."""
        with self.lock:
            retired, self.retired = self.retired & self.loaded, set()
        for key in retired:
            _layers(model, lambda m: m.delete_adapter(key))
            self.loaded.discard(key)
            self.active = None if self.active == key else self.active
        if tuned is None:
            if self.active is not None:
                _layers(model, lambda m: m.enable_adapters(False))
                self.active = None
            return
        if tuned.key not in self.loaded:
            try:
                _load(model, tuned)
            except Exception as e:
                log.warning("could not load the adapter at %s: %s", tuned.path, first_line(e))
                raise BackendError("unavailable", f"The tuned model {tuned.name} could not be loaded: {first_line(e)}")
            self.loaded.add(tuned.key)
        _layers(model, lambda m: (m.enable_adapters(True), m.set_adapter(tuned.key)))
        self.active = tuned.key


def _layers(model, fn) -> None:
    from peft.tuners.tuners_utils import BaseTunerLayer

    for m in model.modules():
        if isinstance(m, BaseTunerLayer):
            fn(m)


def _load(model, tuned: Tuned) -> None:
    """Inject the adapter's LoRA layers into the model in place and load their weights.

    peft's own calls, not transformers' load_adapter: transformers 5.24 wants peft >= 0.22, PyPI has 0.21.2.
    """
    import os

    import torch
    from peft import LoraConfig, inject_adapter_in_model, set_peft_model_state_dict
    from safetensors.torch import load_file

    cfg = LoraConfig.from_pretrained(tuned.path)
    state = load_file(os.path.join(tuned.path, "adapter_model.safetensors"))
    # PeftModel.save_pretrained names weights from the PeftModel wrapper; here the model is bare.
    state = {k.removeprefix("base_model.model."): v for k, v in state.items()}
    with torch.no_grad():
        inject_adapter_in_model(cfg, model, adapter_name=tuned.key)
        result = set_peft_model_state_dict(model, state, adapter_name=tuned.key)
    missing = [k for k in getattr(result, "unexpected_keys", []) or [] if "lora_" in k]
    if missing:
        raise ValueError(f"{len(missing)} adapter weights match no layer of this model")
    model.eval()
