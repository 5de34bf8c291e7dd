"""LocalBackend on tiny random models: context fitting, load errors, the eventlet hub and the threads setting."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from server.backends.base import drop_oldest_turns
from server.backends.local import LocalBackend
from server.concurrency import RealEvent
from server.errors import BackendError
from tests.local_backends import run, wait_ready

# ---- context fitting -----------------------------------------------------

def test_fit_drops_the_oldest_turns_to_leave_room(plain):
    turn = "The cats sleep in the sun and the dogs run in the park. " * 4
    msgs = [{"role": "system", "content": "Be brief."}]
    for i in range(12):
        msgs += [{"role": "user", "content": f"{i} {turn}"}, {"role": "assistant", "content": f"{i} ok {turn}"}]
    msgs.append({"role": "user", "content": "last question"})
    prompter = plain.scheduler.prompter
    size = lambda m: len(prompter.encode(m)[1])  # noqa: E731
    assert size(msgs) > 512
    fitted = prompter.fit(msgs, 200)
    assert fitted[0] == msgs[0] and fitted[-1] == msgs[-1]
    assert fitted[1]["role"] == "user" and fitted[1:] == msgs[-(len(fitted) - 1):]  # a suffix: oldest went first
    assert size(fitted) <= 512 - 200
    # Same cut as the plain one-turn-at-a-time walk (fit binary-searches to save tokenizing).
    assert fitted == drop_oldest_turns(msgs, lambda m: size(m) <= 512 - 200)
    assert size(prompter.fit(msgs, 100)) > size(fitted)  # more room, more history
    short = msgs[:1] + msgs[-3:]
    assert prompter.fit(short, 200) == short
    # stream() fits too, and the reply still runs.
    last = run(plain, msgs, max_tokens=200)[-1]
    assert last.finish_reason and last.usage["prompt_tokens"] <= 312


def test_a_message_longer_than_the_context_is_too_long(plain):
    with pytest.raises(BackendError) as e:
        run(plain, [{"role": "user", "content": "cats and dogs " * 400}])
    assert e.value.code == "too_long" and "too long" in e.value.message


# ---- errors --------------------------------------------------------------

@pytest.mark.parametrize("make, words", [
    (lambda d: str(d / "missing"), "does not exist"),
    (lambda d: str(d), "no config.json"),
    (lambda d: (d / "notes.txt").write_text("hi") and str(d / "notes.txt"), "is not a model"),
    (lambda d: (d / "fake.gguf").write_bytes(b"nope" * 10) and str(d / "fake.gguf"), "not a GGUF"),
    (lambda d: (d / "config.json").write_text("{not json") and str(d), "Could not load the model"),
])
def test_bad_paths_fail_fast_with_a_readable_message(tmp_path, make, words):
    path = make(tmp_path)
    b = LocalBackend(path, device="cpu")
    t0 = time.monotonic()
    with pytest.raises(BackendError) as e:
        run(b)
    assert time.monotonic() - t0 < 30
    assert e.value.code == "unavailable" and words in e.value.message
    st = b.status()
    assert st.error and not st.model_ready and st.message == e.value.message
    with pytest.raises(BackendError):  # and again at once, without reloading
        run(b)


def test_cuda_requested_without_a_gpu_is_a_clear_error(models):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    b = LocalBackend(models["plain"], device="cuda")
    with pytest.raises(BackendError) as e:
        run(b)
    assert "CUDA" in e.value.message


# ---- eventlet ------------------------------------------------------------

def test_streams_from_a_real_thread_while_eventlet_hub_keeps_running(models):
    """Under monkey-patching, generation in a real OS thread neither blocks the hub nor stalls the stream."""
    code = textwrap.dedent(f"""
        try:
            import trio  # as run.py does: trio needs select.epoll, which eventlet removes
        except ImportError:
            pass
        import eventlet
        eventlet.monkey_patch()
        import threading, time
        from server.concurrency import RealQueue, start_os_thread, RealEvent
        from server.backends.local import LocalBackend
        from server.concurrency import real_threading
        b = LocalBackend({models["endless"]!r}, device="cpu")
        b.start()
        while not b.status().model_ready:
            eventlet.sleep(0.05)
        hub_thread, forward_threads = real_threading.get_native_id(), set()
        b.model.register_forward_hook(lambda *a: forward_threads.add(real_threading.get_native_id()))
        q = RealQueue()
        def consume():
            try:
                for c in b.stream([{{"role": "user", "content": "hi"}}], model="x", params={{"max_tokens": 1500}},
                                  cancel=RealEvent()):
                    q.put(c)
            finally:
                q.put(None)
        start_os_thread(consume)
        ticks, chunks, gaps, last = 0, [], [], time.monotonic()
        while True:
            eventlet.sleep(0.01)  # the hub's turn; a blocked hub shows as a long gap
            now = time.monotonic(); gaps.append(now - last); last = now; ticks += 1
            try:
                c = q.get_nowait()
            except Exception:
                continue
            if c is None:
                break
            chunks.append(c)
        assert chunks, b.status()
        assert forward_threads and hub_thread not in forward_threads, "the model ran on the hub's OS thread"
        print("RESULT", ticks, max(gaps[20:] or [0]), chunks[-1].usage["completion_tokens"], chunks[-1].finish_reason)
    """)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=180)
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT")]
    assert line, p.stderr[-3000:]
    _, ticks, gap, n, reason = line[0].split()
    assert int(n) == 1500 and reason == "length"
    assert int(ticks) > 50 and float(gap) < 0.5  # the hub kept turning while the model generated


def test_threads_setting_reaches_torch(models):
    import torch

    from server.config import parse_args

    assert parse_args(["--threads", "3"], environ={}).torch_threads == 3
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # not the count asked for (tests/conftest.py gives each test process one thread)
    b = LocalBackend(models["plain"], device="cpu", name="one-thread", threads=1)
    try:
        assert wait_ready(b).model_ready
        seen = []
        b.model.register_forward_pre_hook(lambda *_: seen.append(torch.get_num_threads()))
        list(b.stream([{"role": "user", "content": "hi"}], params={"max_tokens": 3}, cancel=RealEvent()))
        assert seen and set(seen) == {1}  # the thread that runs generate uses one torch thread
    finally:
        b.close()
        torch.set_num_threads(before)
