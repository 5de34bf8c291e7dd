"""What the graph's live-server tests share: a GET that must succeed, and waiting for a build job to end."""
from __future__ import annotations

import time

from tests.live import http_json


def get(url, path, headers=None):
    """GET url+path; the body, after asserting it is an ok 200."""
    status, body = http_json(url + path, headers=headers)
    assert status == 200 and body["ok"], body
    return body


def wait_job(url, job_id, status=("done", "failed", "cancelled"), timeout=120):
    """The graph job once its status is one of `status`; TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = get(url, f"/api/graph/jobs/{job_id}")
        if job["status"] in status:
            return job
        time.sleep(0.05)
    raise TimeoutError(f"job {job_id} still {job['status']}")
