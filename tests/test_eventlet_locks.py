"""Under eventlet, OS threads (a model's loader, the library's) log beside the hub without deadlocking it."""
import subprocess
import sys
import textwrap

from tests.live import ROOT

# Two OS threads and the hub call getLogger and log at once, as a start does when the model's loader imports
# transformers beside the library's loader. With logging's green locks this dies at once in a hub
# ("greenlet.error: Cannot switch to a different thread") and the waiting thread never wakes (3 of 3 runs).
SCRIPT = textwrap.dedent("""
    import os, sys
    import eventlet
    eventlet.monkey_patch()
    sys.path.insert(0, ROOT)
    from server.concurrency import real_logging_locks, start_os_thread
    real_logging_locks()
    import logging
    logging.basicConfig(stream=open(os.devnull, "w"), level=logging.INFO)

    def log_a_lot(n):
        for i in range(20000):
            logging.getLogger(f"loader{n}.{i % 50}").info("line %d", i)

    threads = [start_os_thread(log_a_lot, k) for k in range(2)]
    for i in range(20000):
        logging.getLogger("hub").info("line %d", i)
        if i % 100 == 0:
            eventlet.sleep(0)
    for t in threads:
        t.join()
    print("all logged")
""")


def test_os_threads_and_the_hub_log_at_once_under_eventlet():
    proc = subprocess.run([sys.executable, "-c", f"ROOT = {ROOT!r}\n" + SCRIPT], capture_output=True, text=True,
                          timeout=60)
    assert "greenlet.error" not in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode == 0 and "all logged" in proc.stdout, proc.stderr[-3000:]
