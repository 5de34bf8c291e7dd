"""Real OS threads and queues, whether or not eventlet has patched the stdlib."""
import os
import queue as _queue
import sys
import threading
import time


def _original(name):
    patcher = sys.modules.get("eventlet.patcher")
    if patcher is None:  # eventlet never imported: nothing is patched
        return __import__(name)
    # patcher.original gives the unpatched module even after monkey_patch(). eventlet records
    # threading, _thread and queue as patched under the one key "thread", never "threading".
    return patcher.original(name) if patcher.is_monkey_patched("thread") else __import__(name)


def __getattr__(attr):
    # real_threading / real_queue are looked up at use, not at import: run.py imports the
    # server package before monkey_patch(), and a module taken then is patched in place later.
    if attr in ("real_threading", "real_queue"):
        return _original(attr[len("real_"):])
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")


def RealEvent() -> threading.Event:
    """A threading.Event that an OS thread can wait on under eventlet too."""
    return _original("threading").Event()


def RealQueue(maxsize: int = 0) -> _queue.Queue:
    """A queue.Queue shared safely between an OS thread and the server's loop."""
    return _original("queue").Queue(maxsize)


def RealLock() -> threading.Lock:
    """A lock that serializes OS threads (not green threads)."""
    return _original("threading").Lock()


def RealCondition(lock=None) -> threading.Condition:
    """A threading.Condition whose waits block the OS thread, not a green thread."""
    return _original("threading").Condition(lock if lock is not None else RealLock())


def start_os_thread(target, *args, name: str | None = None):
    """Run target(*args) in a real OS thread (never a green thread), daemonized."""
    t = _original("threading").Thread(target=target, args=args, name=name, daemon=True)
    t.start()
    return t


Empty = _queue.Empty

# Under eventlet every lock a library makes is green, and a green lock that two OS threads contend never wakes
# its waiter: the release schedules the wake-up on the releasing thread's own hub, which then dies with
# "greenlet.error: Cannot switch to a different thread" while the waiter (a model's loader) waits forever.
# Two OS threads calling getLogger at once did that in 3 of 3 runs (tests/test_eventlet_locks.py's script
# without real_logging_locks); a start of tests/test_graph_offline.py's server once never became ready so. Loading
# torch or transformers, with their import-time locks (transformers' logging lock, tqdm's bar lock, torch's
# pytree registry, all seen taken from loader threads), is also one at a time.
HEAVY_LOADS = RealLock()


def real_logging_locks() -> None:
    """Give logging real locks (its module lock and every handler's): OS threads log beside the hub's."""
    import logging

    real = _original("threading")
    setattr(logging, "_lock", real.RLock())  # getLogger's lock, taken by every module's import

    def create_lock(handler):
        handler.lock = real.RLock()

    logging.Handler.createLock = create_lock  # type: ignore[method-assign]
    for ref in list(getattr(logging, "_handlerList")):
        handler = ref()
        if handler is not None:
            handler.lock = real.RLock()


class HubChannel:
    """A queue that OS threads fill and a green thread on eventlet's hub drains, woken through a pipe.

    An OS thread cannot wake a green thread through a queue; polling one every 5 ms cost the hub 200
    wake-ups a second per reply. Each put writes a byte that makes the pipe readable, and the reader
    waits on it with the hub, so it wakes only when there is something to take.
    """

    def __init__(self):
        self._q = RealQueue()
        # eventlet's os.read/os.write wait on the hub when a pipe is empty or full: never from an OS thread.
        patcher = sys.modules.get("eventlet.patcher")
        self._os = patcher.original("os") if patcher and patcher.is_monkey_patched("os") else os
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        os.set_blocking(self._w, False)
        self._lock = RealLock()  # a put racing close() must not write to a file descriptor reused since
        self._open = True

    def put(self, item) -> None:
        self._q.put(item)
        with self._lock:
            if self._open:
                try:
                    self._os.write(self._w, b"x")
                except BlockingIOError:
                    pass  # the pipe is full of wake-ups already

    def get(self, timeout: float | None = None):
        """The next item, or queue.Empty after timeout seconds (None: no limit); waits on the hub, never blocks it."""
        from eventlet.hubs import trampoline

        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                return self._q.get_nowait()
            except Empty:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise
            try:
                trampoline(self._r, read=True, timeout=left, timeout_exc=Empty)
                self._os.read(self._r, 4096)
            except BlockingIOError:
                pass  # another reader took the wake-up

    def get_nowait(self):
        """The next item if one is waiting, else queue.Empty."""
        return self._q.get_nowait()

    def close(self) -> None:
        with self._lock:
            if self._open:
                self._open = False
                os.close(self._r)
                os.close(self._w)


def off_hub(fn, *args):
    """fn(*args) in a real OS thread, the caller waiting without blocking eventlet's hub; plain call otherwise."""
    patcher = sys.modules.get("eventlet.patcher")
    if patcher is not None and patcher.is_monkey_patched("thread"):
        from eventlet import tpool

        return tpool.execute(fn, *args)
    return fn(*args)


def lower_priority(niceness: int = 10) -> None:
    """Make the calling OS thread yield the CPU to the rest of the server (Linux nices threads one by one)."""
    if sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, _original("threading").get_native_id(), niceness)
        except OSError:
            pass


class BackgroundWorker:
    """One low-priority OS thread that runs jobs in order; call() blocks the calling OS thread until done."""

    def __init__(self, name: str):
        self._jobs = RealQueue()
        start_os_thread(self._run, name=name)

    def _run(self) -> None:
        lower_priority()
        while True:
            fn, args, box, done = self._jobs.get()
            try:
                box.append((True, fn(*args)))
            except BaseException as e:  # handed to the caller, raised there
                box.append((False, e))
            done.set()

    def call(self, fn, *args):
        box: list = []
        done = RealEvent()
        self._jobs.put((fn, args, box, done))
        done.wait()
        ok, value = box[0]
        if not ok:
            raise value
        return value
