"""The training child process: python -m server.tuning.worker JOB_FOLDER (spec.json in, progress.jsonl out)."""
from __future__ import annotations

import json
import os
import shutil
import sys
import time

# below the server (0), so chats go first (bench/RESULTS.md, the latency ratio); more starves it on a busy box
NICE = 10


def emit(folder: str, **event) -> None:
    """One progress line; the server reads the file as it grows (a line is written whole, then flushed)."""
    with open(os.path.join(folder, "progress.jsonl"), "a", encoding="utf-8") as f:
        f.write(json.dumps(event, ensure_ascii=False) + "\n")


def train(folder: str) -> None:
    with open(os.path.join(folder, "spec.json"), encoding="utf-8") as f:
        spec = json.load(f)
    import torch

    torch.set_num_threads(max(1, int(spec.get("threads") or 1)))
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from . import checkpoint, samples, trainer as T

    hf_logging.set_verbosity_error()
    state = checkpoint.read(folder)  # saved before the server restarted: the job goes on from it
    emit(folder, phase="loading the base model")
    tokenizer = AutoTokenizer.from_pretrained(spec["base_folder"], local_files_only=True)
    device = spec.get("device") or "cpu"
    model = AutoModelForCausalLM.from_pretrained(spec["base_folder"], local_files_only=True,
                                                 dtype=torch.float32 if device == "cpu" else "auto").to(device)
    transcript = bool(spec["builtin"]) or not getattr(tokenizer, "chat_template", None)  # as loader._settle
    with open(os.path.join(folder, "examples.json"), encoding="utf-8") as f:
        data = json.load(f)
    shown, held_out = samples.pick(data)
    asked = samples.prompts(tokenizer, shown, transcript)
    if state:  # the base model's answers were given before the restart
        table = state["samples"]
    else:
        emit(folder, phase="answering before training")
        table = samples.table(shown, held_out, samples.answer(model, tokenizer, asked, transcript))
    emit(folder, samples=table)
    train_ex = [e for c in data["train"] for e in T.encode(tokenizer, c, transcript)]
    eval_ex = [e for c in data["eval"] for e in T.encode(tokenizer, c, transcript)]
    t = T.Trainer(model, tokenizer, train_ex, eval_ex, r=spec["lora_r"], lr=spec["learning_rate"],
                  epochs=spec["epochs"], seed=spec.get("seed", 0))
    if state:
        emit(folder, phase="resuming", from_step=checkpoint.restore(t, state))
    emit(folder, phase="training", steps=t.steps, prefix_tokens=t.prefix)
    train_s = steps(folder, t, state, table)
    if train_s is None:
        emit(folder, status="failed", error="The server stopped during training.")
        return
    emit(folder, phase="answering after training")
    after = samples.answer(t.model, tokenizer, asked, transcript)
    emit(folder, samples=[{**row, "after": a} for row, a in zip(table, after)])
    out, tmp = spec["adapter"], spec["adapter"] + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    t.save(tmp)
    with open(os.path.join(tmp, "tuned.json"), "w", encoding="utf-8") as f:
        json.dump({"name": spec["name"], "base": spec["base"], "base_folder": spec["base_folder"],
                   "transcript": transcript,
                   "train_s": train_s}, f)
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    emit(folder, status="done", train_s=train_s)
    checkpoint.discard(folder)


def steps(folder: str, t, state: dict | None, table: list) -> float | None:
    """Train the steps after the checkpoint's (all of them without one), saving one every checkpoint.EVERY steps.

    Returns the seconds trained, runs before a restart included; None when the server went away.
    """
    from . import checkpoint

    start = state["step"] if state else 0
    curve = ({"loss": list(state["loss"]), "eval_loss": list(state["eval_loss"])} if state
             else {"loss": [], "eval_loss": []})
    before_s = float(state["train_s"]) if state else 0.0
    t0 = time.monotonic()

    def report(step, epoch, loss, eval_loss, eta):
        curve["loss"].append([step, round(loss, 5)])
        if eval_loss is not None:
            curve["eval_loss"].append([step, round(eval_loss, 5)])
        if step % checkpoint.EVERY == 0 and step < t.steps:  # saved before the step is reported: a step seen is kept
            checkpoint.save(folder, t, step, epoch=round(epoch, 3), samples=table,
                            train_s=before_s + time.monotonic() - t0, **curve)
        emit(folder, step=step, epoch=round(epoch, 3), loss=round(loss, 5),
             eval_loss=None if eval_loss is None else round(eval_loss, 5), eta_s=round(eta, 1))

    if not t.run(report, parent_gone(), eval_every=max(1, t.steps // 10), start=start):
        return None
    return round(before_s + time.monotonic() - t0, 1)


def parent_gone():
    """A check, made between steps, that the server which started this child has ended.

    A changed os.getppid() alone says so on POSIX (an orphan is re-parented, even while its dead parent is a
    zombie), but Windows never re-parents one: there psutil says whether the parent still runs, comparing its
    start time so that a new process given the same id does not count.
    """
    import psutil

    ppid = os.getppid()
    try:
        parent = psutil.Process(ppid)
    except psutil.Error:
        return lambda: True
    return lambda: os.getppid() != ppid or not parent.is_running()


def die_with_parent() -> None:
    """Linux: end with the server, even when it is killed, rather than train on for nobody."""
    if sys.platform != "linux":
        return  # elsewhere the parent check between steps ends it
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (AttributeError, OSError):
        pass


def lower_priority() -> None:
    """Run below the server so chats go first: nice +NICE on POSIX, the below-normal class on Windows."""
    import psutil

    try:
        me = psutil.Process()
        me.nice(psutil.BELOW_NORMAL_PRIORITY_CLASS if sys.platform == "win32" else me.nice() + NICE)
    except psutil.Error:  # not allowed here: train at the same priority
        pass


def main(argv: list[str]) -> int:
    folder = argv[0]
    die_with_parent()
    lower_priority()
    try:
        train(folder)
    except BaseException as e:  # the server shows this sentence; the traceback goes to the job's log
        import traceback

        traceback.print_exc()
        text = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
        memory = isinstance(e, MemoryError) or "out of memory" in text.lower()
        emit(folder, status="failed", error=("Training ran out of memory." if memory else f"Training failed: {text}"))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
