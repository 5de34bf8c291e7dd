"""The training child started by spawn, as Windows and macOS start every child: a fresh interpreter that inherits
nothing but its arguments, with no os.nice and no prctl (as on Windows). It trains and reports its progress, and
it stops when the process that started it dies, found by the parent check alone."""
from __future__ import annotations

import json
import multiprocessing
import os
import time

import pytest

from server.tuning import data
from tests.tinymodel import build

ROWS = "\n".join(json.dumps({"prompt": f"What is the code of room {i}?", "completion": f"Room {i} has code {i * 7}."})
                 for i in range(8))


def as_on_windows(folder: str) -> None:
    """The worker's main() in a spawned child, with what Windows lacks taken away."""
    from server.tuning import worker

    if hasattr(os, "nice"):
        del os.nice  # Windows has none: the child must not need it
    worker.die_with_parent = lambda: None  # PR_SET_PDEATHSIG is Linux's: elsewhere only the parent check ends it
    raise SystemExit(worker.main([folder]))


def start_then_die(folder: str) -> None:
    """A stand-in for a server that is killed while its child trains: start it, wait for a step, vanish."""
    child = multiprocessing.get_context("spawn").Process(target=as_on_windows, args=(folder,))
    child.start()
    with open(os.path.join(folder, "pid"), "w") as f:
        f.write(str(child.pid))
    while not any("step" in e for e in events(folder)):
        time.sleep(0.1)
    os._exit(9)  # no clean-up, no signal to the child: as a kill -9 or a closed console window


def job_folder(root, model: str, epochs: int) -> str:
    folder = str(root / "job")
    os.makedirs(folder)
    train, evals = data.split(data.parse("rooms.jsonl", ROWS.encode()), 0.0)
    spec = {"name": "rooms", "base": "tiny", "base_folder": model, "builtin": False, "device": "cpu", "threads": 1,
            "adapter": str(root / "adapters" / "rooms"), "epochs": epochs, "learning_rate": 0.01, "lora_r": 4,
            "eval_fraction": 0.0}
    for name, obj in (("spec.json", spec), ("examples.json", {"train": train, "eval": evals})):
        with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
            json.dump(obj, f)
    return folder


def events(folder: str) -> list[dict]:
    try:
        with open(os.path.join(folder, "progress.jsonl"), encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.endswith("\n")]
    except FileNotFoundError:
        return []


def until(folder: str, pred, timeout: float = 300) -> list[dict]:
    deadline = time.monotonic() + timeout
    while not pred(seen := events(folder)):
        assert time.monotonic() < deadline, seen
        time.sleep(0.2)
    return seen


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return build(str(tmp_path_factory.mktemp("tiny-spawn") / "tiny"))


def test_a_spawned_child_trains_and_reports_progress(model, tmp_path):
    folder = job_folder(tmp_path, model, epochs=3)
    child = multiprocessing.get_context("spawn").Process(target=as_on_windows, args=(folder,))
    child.start()
    child.join(300)
    seen = events(folder)
    assert child.exitcode == 0, seen
    steps = [e["step"] for e in seen if "step" in e]
    planned = next(e["steps"] for e in seen if "steps" in e)
    assert steps == list(range(1, planned + 1)) and planned >= 3
    assert all(e["loss"] > 0 for e in seen if "step" in e)
    assert seen[-1] == {"status": "done", "train_s": seen[-1]["train_s"]}
    with open(tmp_path / "adapters" / "rooms" / "tuned.json", encoding="utf-8") as f:
        assert json.load(f)["name"] == "rooms"


def test_a_spawned_child_stops_when_its_parent_dies(model, tmp_path):
    import psutil

    folder = job_folder(tmp_path, model, epochs=100)  # hundreds of steps: it would train for minutes
    parent = multiprocessing.get_context("spawn").Process(target=start_then_die, args=(folder,))
    parent.start()
    parent.join(300)
    assert parent.exitcode == 9
    seen = until(folder, lambda s: any("status" in e for e in s), timeout=60)
    assert seen[-1] == {"status": "failed", "error": "The server stopped during training."}
    with open(os.path.join(folder, "pid"), encoding="utf-8") as f:
        pid = int(f.read())
    deadline = time.monotonic() + 30
    while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the orphaned child is still running"
        time.sleep(0.2)
    planned = next(e["steps"] for e in seen if "steps" in e)
    assert max(e["step"] for e in seen if "step" in e) < planned
