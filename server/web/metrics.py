"""/metrics in Prometheus text format: streams, queue, latency, tokens,
errors and background jobs (admin, or --metrics-open)."""
from __future__ import annotations

from flask import Blueprint, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from .services import services
from .views import require_admin

bp = Blueprint("metrics", __name__)
# Seconds. TTFT of the built-in model on 2 cores is 0.1-2 s, of a remote API 0.3-5 s; a queued one can wait a minute.
TTFT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60)
# A token every 10-100 ms on a CPU model (9-38 tok/s, docs/DESIGN.md); an API streams faster.
GAP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)


class ServerMetrics:
    """The registry of one app: counters and histograms fed by ChatService.on_done, gauges read at scrape time."""

    def __init__(self, service, knowledge, graph_builder, tuning):
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.ttft = Histogram("chat_ttft_seconds", "Time from accepting a chat to its first token", ["backend"],
                              buckets=TTFT_BUCKETS, registry=r)
        self.gap = Histogram("chat_inter_token_seconds", "Mean time between tokens of one reply", ["backend"],
                             buckets=GAP_BUCKETS, registry=r)
        self.tokens = Counter("chat_tokens", "Tokens of finished replies", ["backend", "kind"], registry=r)
        self.replies = Counter("chat_replies", "Replies ended, by how", ["backend", "finish_reason"], registry=r)
        self.errors = Counter("chat_errors", "Errors answered, by protocol code (chats, events and HTTP API)", ["code"],
                              registry=r)
        r.register(_Gauges(service, knowledge, graph_builder, tuning))
        service.on_done.append(self.reply_ended)

    def reply_ended(self, req, done: dict) -> None:
        name = req.backend.name
        self.replies.labels(name, done["finish_reason"]).inc()
        if req.error_event:
            self.errors.labels(req.error_event["code"]).inc()
        if req.first_token_at is not None:
            self.ttft.labels(name).observe(req.first_token_at - req.started)
            if req.chunks > 1 and req.finished_at is not None:
                self.gap.labels(name).observe((req.finished_at - req.first_token_at) / (req.chunks - 1))
        usage = req.usage or {}
        self.tokens.labels(name, "prompt").inc(usage.get("prompt_tokens") or 0)
        self.tokens.labels(name, "completion").inc(usage.get("completion_tokens") or req.chunks)


class _Gauges:
    """What is true now: read when Prometheus scrapes, so nothing has to keep them up to date."""

    def __init__(self, service, knowledge, graph_builder, tuning):
        self.service, self.knowledge, self.graph_builder, self.tuning = service, knowledge, graph_builder, tuning

    def describe(self):
        return []

    def collect(self):
        requests = list(self.service.requests.values())
        streaming = [r for r in requests if r.done_event is None]
        yield GaugeMetricFamily("chat_active_streams", "Replies streaming now", value=len(streaming))
        yield GaugeMetricFamily("chat_queue_depth", "Replies waiting for the local model (not yet a token)",
                                value=sum(1 for r in streaming if r.queued is not None and r.first_token_at is None))
        library = GaugeMetricFamily("library_jobs", "Uploads being added to the library", labels=["phase"])
        progress = self.knowledge.progress()
        if progress:
            library.add_metric([progress.get("phase", "")], 1)
        yield library
        for name, jobs in (("graph_jobs", self.graph_builder.jobs), ("tuning_jobs", getattr(self.tuning, "jobs", {}))):
            family = GaugeMetricFamily(name, f"{name.split('_')[0].title()} jobs this process knows, by status",
                                       labels=["status"])
            counts: dict[str, int] = {}
            for job in list(jobs.values()):
                counts[job.get("status", "")] = counts.get(job.get("status", ""), 0) + 1
            for status, n in sorted(counts.items()):
                family.add_metric([status], n)
            yield family


def count_error(code: str) -> None:
    """An error answered outside a reply (a refused chat event, an API error)."""
    services().metrics.errors.labels(code).inc()


@bp.after_app_request
def count_api_errors(response):
    if response.status_code >= 400 and request.path.startswith(("/api/", "/v1/")) and response.is_json:
        body = response.get_json(silent=True)
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            count_error(str(error.get("code") or error.get("type") or response.status_code)[:40])
    return response


@bp.route("/metrics")
def metrics():
    if not services().cfg.metrics_open:
        require_admin()
    return Response(generate_latest(services().metrics.registry), mimetype=CONTENT_TYPE_LATEST)
