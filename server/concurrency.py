"""Real OS threads and queues, whether or not eventlet has patched the stdlib."""
import queue as _queue
import sys
import threading as _threading


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


def RealEvent():
    """A threading.Event that an OS thread can wait on under eventlet too."""
    return _original("threading").Event()


def RealQueue(maxsize: int = 0):
    """A queue.Queue shared safely between an OS thread and the server's loop."""
    return _original("queue").Queue(maxsize)


def RealLock():
    """A lock that serializes OS threads (not green threads)."""
    return _original("threading").Lock()


def RealCondition(lock=None):
    """A threading.Condition whose waits block the OS thread, not a green thread."""
    return _original("threading").Condition(lock if lock is not None else RealLock())


def start_os_thread(target, *args, name: str | None = None):
    """Run target(*args) in a real OS thread (never a green thread), daemonized."""
    t = _original("threading").Thread(target=target, args=args, name=name, daemon=True)
    t.start()
    return t


Empty = _queue.Empty
