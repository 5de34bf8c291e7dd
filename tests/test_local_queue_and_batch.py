"""LocalBackend on tiny random models: Stop, the queue and its positions, and rows that share a batch."""
from __future__ import annotations

import threading
import time

from server.backends.local import LocalBackend
from tests.local_backends import HELLO, PROMPTS, Streams, run, text_of, until

# ---- cancel and queueing -------------------------------------------------

def test_cancel_stops_within_a_token_and_frees_the_model(endless):
    cancel = threading.Event()
    gen = endless.stream(HELLO, model="x", params={"max_tokens": 3000, "do_sample": True}, cancel=cancel)
    got = 0
    for chunk in gen:
        got += bool(chunk.text)
        if got == 5:
            cancel.set()
            t0 = time.monotonic()
    assert time.monotonic() - t0 < 0.5  # the generator returned right away
    # The model is free at once: a short request does not wait for the rest of 3000 tokens (~10 s).
    t0 = time.monotonic()
    chunks = run(endless, max_tokens=5)
    assert chunks[-1].usage["completion_tokens"] == 5 and time.monotonic() - t0 < 2


def test_closing_the_generator_also_stops_generation(endless):
    gen = endless.stream(HELLO, model="x", params={"max_tokens": 3000}, cancel=threading.Event())
    next(c for c in gen if c.text)
    gen.close()  # the caller walked away without setting cancel
    t0 = time.monotonic()
    assert run(endless, max_tokens=3)[-1].finish_reason == "length"
    assert time.monotonic() - t0 < 2


def test_concurrent_streams_take_turns_with_visible_positions(serial):
    endless = serial
    events = []  # (who, what, time)
    lock = threading.Lock()
    cancel_a = threading.Event()

    def consume(who, max_tokens, cancel):
        for c in endless.stream(HELLO, model="x", params={"max_tokens": max_tokens}, cancel=cancel):
            what = ("queued", c.queued) if c.queued else ("finish",) if c.finish_reason else ("text",)
            with lock:
                events.append((who, what, time.monotonic()))
        with lock:
            events.append((who, ("end",), time.monotonic()))

    def started(who):
        return any(w == who for w, _, _ in list(events))

    def spawn(who, max_tokens, cancel=None):
        t = threading.Thread(target=consume, args=(who, max_tokens, cancel or threading.Event()))
        t.start()
        until(lambda: started(who))
        return t

    threads = [spawn("a", 3000, cancel_a), spawn("b", 20), spawn("c", 20)]
    cancel_a.set()  # a would run for ~10 s; stopping it lets b, then c, through
    for t in threads:
        t.join(60)
    of = lambda who: [e for w, e, _ in events if w == who]  # noqa: E731
    at = lambda who, e: next(t for w, x, t in events if w == who and x == e)  # noqa: E731
    assert of("a")[0] == ("text",) and ("queued", 1) not in of("a")  # an idle model does not queue
    assert of("b")[0] == ("queued", 1)
    assert of("c")[:2] == [("queued", 2), ("queued", 1)]  # moved up when b started
    assert at("b", ("text",)) > at("a", ("end",))  # one after the other, in order
    # c's consumer may record c's first text before b's records b's finish (two threads, two queues; seen at
    # load 14), so b must start before c starts and finish before c finishes
    assert at("c", ("text",)) > at("b", ("text",)) and at("c", ("finish",)) > at("b", ("finish",))
    assert of("b")[-2:] == [("finish",), ("end",)] and of("c")[-2:] == [("finish",), ("end",)]


def test_a_chat_sent_while_loading_waits_for_the_model(models):
    b = LocalBackend(models["plain"], device="cpu")
    assert not b.status().model_ready
    chunks = run(b, max_tokens=5)  # starts the load itself
    assert chunks[0].queued == 1
    assert chunks[-1].finish_reason and b.status().model_ready and b.status().progress == 1.0
    b.close()


def test_cancel_while_queued_leaves_the_line(serial):
    endless = serial
    first = endless.stream(HELLO, model="x", params={"max_tokens": 3000}, cancel=threading.Event())
    next(c for c in first if c.text)
    cancel = threading.Event()
    second = endless.stream(HELLO, model="x", params={"max_tokens": 5}, cancel=cancel)
    assert next(second).queued == 1
    cancel.set()
    assert list(second) == []
    first.close()
    t0 = time.monotonic()
    assert run(endless, max_tokens=2)[-1].usage["completion_tokens"] == 2
    assert time.monotonic() - t0 < 2


# ---- batching (default batch size 4) -------------------------------------

def test_batch_of_four_streams_together_each_to_its_own_max_tokens(endless):
    s = Streams(endless)
    for i, n in enumerate((20, 33, 47, 61)):
        s.start(i, PROMPTS[i], wait_first=False, max_tokens=n, do_sample=True)
    s.join()
    for i, n in enumerate((20, 33, 47, 61)):
        last = s.chunks[i][-1]
        assert last.finish_reason == "length" and last.usage["completion_tokens"] == n, (i, last)
        assert last.usage["prompt_tokens"] > 5
        assert not any(c.queued for c in s.chunks[i])  # four fit in the batch: nobody waits
        assert text_of(s.chunks[i]).strip()
    # Together, not one after another: the longest began before the shortest ended.
    assert s.at(3, "text") < s.at(0, "finish")


def test_stopping_one_row_leaves_the_others_running_to_their_own_max(endless):
    s = Streams(endless)
    s.start("long", PROMPTS[0], max_tokens=1500)
    for i in (1, 2, 3):  # long enough to outlive the stop on decode.py's rows too (90 tokens once did not, loaded)
        s.start(i, PROMPTS[i], max_tokens=300 + 10 * i)
    until(lambda: s.texts("long") >= 5)
    s.cancels["long"].set()
    t0 = time.monotonic()
    s.join()
    assert s.at("long", "end") - t0 < 0.5
    assert not any(c.finish_reason for c in s.chunks["long"])  # the caller reports "cancelled"
    for i in (1, 2, 3):
        last = s.chunks[i][-1]
        assert last.finish_reason == "length" and last.usage["completion_tokens"] == 300 + 10 * i
        assert s.at(i, "finish") > s.at("long", "end")  # they went on after the stop


def test_requests_beyond_the_batch_see_their_place_then_run(endless):
    s = Streams(endless)
    for i in range(4):
        s.start(i, PROMPTS[i % 4], max_tokens=1500)
    s.start("fifth", PROMPTS[4], max_tokens=12)
    s.start("sixth", PROMPTS[4], max_tokens=7)
    assert s.chunks["fifth"][0].queued == 1 and s.chunks["sixth"][0].queued == 2
    time.sleep(0.3)
    assert s.texts("fifth") == 0  # the batch is full
    s.cancels[0].set()  # a slot frees: the fifth joins the running batch
    until(lambda: s.texts("fifth"))
    assert [c.queued for c in s.chunks["sixth"] if c.queued] == [2, 1]  # moved up
    s.cancels[1].set()
    for who in (2, 3):
        until(lambda: s.texts(who) >= 5)
    for who, n in (("fifth", 12), ("sixth", 7)):
        until(lambda: s.chunks[who] and s.chunks[who][-1].finish_reason)
        assert s.chunks[who][-1].usage["completion_tokens"] == n
    assert not any(c.finish_reason for c in s.chunks[2])  # the long rows were still running meanwhile
    s.cancels[2].set()
    s.cancels[3].set()
    s.join()


def test_greedy_batched_equals_greedy_one_at_a_time(endless, serial):
    # Prompts of different lengths (rows of different sizes in one batch); the second one leads elsewhere.
    prompts = [[{"role": "user", "content": t}] for t in (
        "hi", "Numbers like 1, 2, 3, 10, 42", "How do I cook rice? Rinse it, add water, bring it to a boil.", "Bob")]
    alone = [text_of(run(serial, p, max_tokens=40, do_sample=False)) for p in prompts]
    s = Streams(endless)
    for i in range(4):
        s.start(i, prompts[i], wait_first=False, max_tokens=40, do_sample=False)
    s.join()
    assert len(set(alone)) > 1  # different prompts, different replies: rows are not mixed up
    assert [text_of(s.chunks[i]) for i in range(4)] == alone


def test_a_lone_request_on_a_cpu_is_a_row_of_the_batch_and_replies_as_generate_does(endless, serial):
    from server.backends.local.rows import RowBatch

    for sampling in ({"do_sample": False}, {"do_sample": False, "repetition_penalty": 1.5}):
        want = text_of(run(serial, PROMPTS[2], max_tokens=60, **sampling))  # generate() alone
        assert text_of(run(endless, PROMPTS[2], max_tokens=60, **sampling)) == want
    assert isinstance(endless.scheduler.batch.made, RowBatch) and endless.scheduler.batch.made.busy == 0


def test_a_sampled_reply_through_generate_takes_only_tokens_of_its_top_k(serial):
    import torch

    from server.backends.local.jobs import Ended, Job

    torch.manual_seed(4)
    job = Job(PROMPTS[1], {"max_tokens": 40, "do_sample": True, "temperature": 1.5, "top_k": 2}, 40, None)
    serial.scheduler.submit(job)
    while not isinstance(job.out.get(timeout=30), Ended):
        pass
    ids, reply = job.fitted().ids, job.take()
    with torch.inference_mode():
        logits = serial.model(input_ids=torch.tensor([ids + reply])).logits[0, len(ids) - 1:-1]
    best2 = logits.topk(2, dim=-1).indices
    assert len(reply) == 40 and all(t in row for t, row in zip(reply, best2.tolist()))
    assert (torch.tensor(reply) != best2[:, 0]).any()  # it did sample: not the greedy reply


def test_repetition_penalty_in_a_batch_row_changes_that_row_only(endless, serial):
    # Rows side by side in one batch, greedy: the penalized one gives what generate() gives with the
    # penalty, the other what it gives without; neither waits for the other.
    want_penalized = text_of(run(serial, HELLO, max_tokens=40, do_sample=False, repetition_penalty=2.0))
    want_plain = text_of(run(serial, PROMPTS[0], max_tokens=40, do_sample=False))
    assert want_penalized != text_of(run(serial, HELLO, max_tokens=40, do_sample=False))
    s = Streams(endless)
    s.start("plain", PROMPTS[0], wait_first=False, max_tokens=40, do_sample=False)
    s.start("penalized", HELLO, wait_first=False, max_tokens=40, do_sample=False, repetition_penalty=2.0)
    s.join()
    assert text_of(s.chunks["penalized"]) == want_penalized
    assert text_of(s.chunks["plain"]) == want_plain
    assert s.at("penalized", "text") < s.at("plain", "finish") and s.at("plain", "text") < s.at("penalized", "finish")


def test_a_reply_running_alone_moves_into_the_batch_when_someone_joins(endless, serial):
    # Alone, a reply runs through generate(); a newcomer makes it move into the batch mid-reply.
    # Greedy, so the moved reply must go on exactly as if it had stayed: no token lost, repeated or changed.
    want = text_of(run(serial, PROMPTS[0], max_tokens=300, do_sample=False))
    s = Streams(endless)
    s.start("first", PROMPTS[0], max_tokens=300, do_sample=False)
    until(lambda: s.texts("first") >= 3)
    s.start("second", PROMPTS[1], max_tokens=40)
    s.join()
    first, second = s.chunks["first"], s.chunks["second"]
    assert first[-1].finish_reason == "length" and first[-1].usage["completion_tokens"] == 300
    assert text_of(first) == want
    assert second[-1].usage["completion_tokens"] == 40
    assert not any(c.queued for c in first + second)
    assert s.at("second", "finish") < s.at("first", "finish")  # it did not wait for the first to end


def test_batch_size_setting():
    from server.config import parse_args

    assert parse_args([], environ={}).local_batch_size == 8
    assert parse_args(["--batch-size", "1"], environ={}).local_batch_size == 1
    assert parse_args([], environ={"CHAT_BATCH_SIZE": "2"}).local_batch_size == 2


def test_batch_rows_are_sized_to_the_model_and_the_memory(endless, monkeypatch):
    from server.backends.local import batch as local_batch

    per_token = local_batch.kv_bytes_per_token(endless.model)
    cfg = endless.model.config
    assert per_token == \
        2 * cfg.num_hidden_layers * cfg.num_key_value_heads * (cfg.hidden_size // cfg.num_attention_heads) * 4
    monkeypatch.setattr(local_batch, "free_memory", lambda device: 10**12)
    assert local_batch.row_tokens(endless.model, 8, context=4096, device="cpu") == local_batch.ROW_TOKENS
    # whole pages (256) of the context
    assert local_batch.row_tokens(endless.model, 8, context=1000, device="cpu") == 768
    # A quarter of the free memory for 4 rows of 600 tokens: each row gets 600, rounded down to pages.
    monkeypatch.setattr(local_batch, "free_memory", lambda device: 4 * 4 * 600 * per_token)
    assert local_batch.row_tokens(endless.model, 4, context=4096, device="cpu") == 512
