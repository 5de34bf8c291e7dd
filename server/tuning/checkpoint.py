"""A training job's checkpoint in its folder:
LoRA weights, optimizer and scheduler state, the step, the curve so far."""
from __future__ import annotations

import os

FILE = "checkpoint.pt"
# Saved every this many steps. The built-in Gemma 3 270M (r=16, one torch thread): a save takes 0.11-0.16 s
# (46 MB) against 2.9-6.3 s a step on a nearly quiet machine (bench/tuning_costs.py), so every 5 steps costs
# about 1% and a restart redoes at most 4 steps; the tiny test model: 11 ms a save, 16 ms a step.
EVERY = 5


KEYS = ("step", "epoch", "lora", "opt", "sched", "samples", "train_s", "loss", "eval_loss")


class Unreadable(Exception):
    """A checkpoint is there but cannot be read (a damaged file)."""


def path(folder: str) -> str:
    return os.path.join(folder, FILE)


def save(folder: str, trainer, step: int, *, epoch: float, samples: list, train_s: float, loss: list,
         eval_loss: list) -> None:
    """Write the trainer's state after `step`, with the job's progress so far: to a temporary file, then over
    the old one (never half a file)."""
    import torch
    from peft import get_peft_model_state_dict

    state = {"step": step, "lora": get_peft_model_state_dict(trainer.model), "opt": trainer.opt.state_dict(),
             "sched": trainer.sched.state_dict(), "epoch": epoch, "samples": samples, "train_s": train_s,
             "loss": loss, "eval_loss": eval_loss}
    tmp = path(folder) + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path(folder))


def read(folder: str, mmap: bool = False) -> dict | None:
    """The job's checkpoint, None when it has none; Unreadable when its file cannot be read.

    With mmap the tensors stay on disk until touched: the server reads the step and curve without the weights.
    """
    p = path(folder)
    if not os.path.exists(p):
        return None
    import torch

    try:
        state = torch.load(p, map_location="cpu", weights_only=True, mmap=mmap)
        missing = [k for k in KEYS if k not in state] if isinstance(state, dict) else list(KEYS)
        if missing or not isinstance(state["step"], int):
            raise ValueError(f"it lacks {', '.join(missing) or 'a whole step'}")
        return state
    except Exception as e:
        text = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise Unreadable(f"the checkpoint {p} could not be read: {text}") from e


def restore(trainer, state: dict) -> int:
    """Put a checkpoint's weights, optimizer and scheduler back into the trainer; the step it was saved after."""
    from peft import set_peft_model_state_dict

    set_peft_model_state_dict(trainer.model, state["lora"])
    trainer.opt.load_state_dict(state["opt"])
    trainer.sched.load_state_dict(state["sched"])
    return state["step"]


def discard(folder: str) -> None:
    """A finished job's checkpoint is no longer needed (45 MB for the built-in model)."""
    for p in (path(folder), path(folder) + ".tmp"):
        try:
            os.remove(p)
        except OSError:
            pass
