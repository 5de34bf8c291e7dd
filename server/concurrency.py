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


real_threading = _original("threading")
real_queue = _original("queue")


def RealEvent():
    """A threading.Event that an OS thread can wait on under eventlet too."""
    return real_threading.Event()


def RealQueue(maxsize: int = 0):
    """A queue.Queue shared safely between an OS thread and the server's loop."""
    return real_queue.Queue(maxsize)


def RealLock():
    """A lock that serializes OS threads (not green threads)."""
    return real_threading.Lock()


def start_os_thread(target, *args, name: str | None = None):
    """Run target(*args) in a real OS thread (never a green thread), daemonized."""
    t = real_threading.Thread(target=target, args=args, name=name, daemon=True)
    t.start()
    return t


Empty = _queue.Empty
