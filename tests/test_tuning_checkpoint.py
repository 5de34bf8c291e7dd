"""Checkpoints of a tuning job on the tiny model: a resumed run takes the steps an unbroken one takes; a job the
server stopped during is queued again at its checkpoint, from 0 without one, failed only when it cannot be read."""
from __future__ import annotations

import os

import pytest

from server.tuning import checkpoint
from server.tuning.store import UNREADABLE, JobFolder, new_job
from tests.tinymodel import build

FACTS = [[{"role": "user", "content": f"What is the code of room {i}?"},
          {"role": "assistant", "content": f"Room {i} has code {i * 7}."}] for i in range(24)]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """The tiny model, trained on one torch thread as the training child is (two threads on two busy cores
    stall each other: 9 steps took 8 s instead of 0.2)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield build(str(tmp_path_factory.mktemp("tiny-ckpt") / "tiny"), endless=True)
    torch.set_num_threads(threads)


def trainer(folder):
    """A fresh model and Trainer: 24 examples, batch 8, 3 epochs = 9 steps."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from server.tuning import trainer as T

    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    examples = [e for c in FACTS for e in T.encode(tok, c, False)]
    return T.Trainer(model, tok, examples, [], r=4, lr=1e-2, epochs=3)


def losses(t, start=0, stop_after=None, save_in=None) -> dict[int, float]:
    seen = {}

    def report(step, epoch, loss, ev, eta):
        seen[step] = loss
        if save_in and step == stop_after:
            checkpoint.save(save_in, t, step, epoch=epoch, samples=[], train_s=1.0,
                            loss=[[s, v] for s, v in seen.items()], eval_loss=[])

    t.run(report, lambda: stop_after is not None and stop_after in seen, eval_every=100, start=start)
    return seen


def test_a_resumed_run_takes_the_same_steps_as_an_unbroken_one(folder, tmp_path):
    unbroken = losses(trainer(folder))
    assert list(unbroken) == list(range(1, 10))
    first = losses(trainer(folder), stop_after=5, save_in=str(tmp_path))
    assert list(first) == [1, 2, 3, 4, 5]
    assert not os.path.exists(checkpoint.path(str(tmp_path)) + ".tmp")  # written whole, then moved over

    again = trainer(folder)  # as after a restart: a new process, the model fresh from disk
    state = checkpoint.read(str(tmp_path))
    assert checkpoint.restore(again, state) == 5 and [s for s, _ in state["loss"]] == [1, 2, 3, 4, 5]
    rest = losses(again, start=5)
    assert list(rest) == [6, 7, 8, 9]  # the steps before the checkpoint are not trained again
    # Same weights, same optimizer moments and learning rate, same batches: the same losses as without the stop.
    assert rest == pytest.approx({s: unbroken[s] for s in rest}, rel=1e-4)


def job_in(root):
    jobs = JobFolder(str(root))
    job = new_job("rooms", "tiny", {}, 24, 0, [])
    jobs.create(job, {"train": FACTS, "eval": []})
    job.update(status="running", step=12, steps=40, loss=[[s, 1.0] for s in range(1, 13)],
               eval_loss=[[4, 2.0], [8, 1.5]])
    jobs.save(job)
    return jobs, job


def test_a_job_found_running_at_start_is_queued_again_at_its_checkpoint(folder, tmp_path):
    jobs, job = job_in(tmp_path / "with")
    t = trainer(folder)
    checkpoint.save(jobs.folder(job["id"]), t, 10, epoch=3.3, samples=[], train_s=1.0,
                    loss=[[s, 1.0] for s in range(1, 11)], eval_loss=[[4, 2.0], [8, 1.5]])
    [back] = JobFolder(str(tmp_path / "with")).load_all()
    assert back["status"] == "queued" and back["step"] == 10 and back["epoch"] == 3.3
    assert [s for s, _ in back["loss"]] == list(range(1, 11)) and back["eval_loss"] == [[4, 2.0], [8, 1.5]]

    jobs, job = job_in(tmp_path / "without")
    [back] = JobFolder(str(tmp_path / "without")).load_all()
    assert back["status"] == "queued" and back["step"] == 0 and back["loss"] == [] and back["steps"] == 40

    jobs, job = job_in(tmp_path / "damaged")
    with open(checkpoint.path(jobs.folder(job["id"])), "wb") as f:
        f.write(b"not a checkpoint")
    [back] = JobFolder(str(tmp_path / "damaged")).load_all()
    assert back["status"] == "failed" and back["error"] == UNREADABLE and back["step"] == 12
