"""LocalBackend on tiny random models: streaming, params, queueing, cancel, fit, errors; and the real Gemma."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from server.backends.base import drop_oldest_turns
from server.backends.local import LocalBackend
from server.concurrency import RealEvent
from server.errors import BackendError
from tests.tinymodel import build

HELLO = [{"role": "user", "content": "Hello there, how are you?"}]


def wait_ready(backend, timeout=60):
    backend.start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = backend.status()
        if st.model_ready or st.error:
            return st
        time.sleep(0.02)
    raise AssertionError(f"not ready: {backend.status()}")


def until(condition, timeout=30):
    """Wait for condition() to hold; fail after timeout seconds rather than hang."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


def run(backend, messages=HELLO, cancel=None, **params):
    """All chunks of one stream."""
    return list(backend.stream(messages, model=backend.default_model, params=params,
                               cancel=cancel or threading.Event()))


def text_of(chunks, kind=None):
    return "".join(c.text for c in chunks if c.kind == kind)


@pytest.fixture(scope="session")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    return {
        "plain": build(str(root / "plain")),
        "endless": build(str(root / "endless"), endless=True, max_positions=4096),
        "think": build(str(root / "think"), endless=True, think=True),
    }


def running(path: str, name: str, batch_size: int):
    """A loaded backend for a module's tests, closed after them."""
    b = LocalBackend(path, device="cpu", name=name, batch_size=batch_size)
    assert wait_ready(b).model_ready
    yield b
    b.close()


@pytest.fixture(scope="module")
def plain(models):
    yield from running(models["plain"], "plain", batch_size=4)


@pytest.fixture(scope="module")
def endless(models):
    yield from running(models["endless"], "endless", batch_size=4)


@pytest.fixture(scope="module")
def serial(models):
    """The one-at-a-time path (--batch-size 1): generate() per request."""
    yield from running(models["endless"], "serial", batch_size=1)


# ---- streaming and params ------------------------------------------------

def test_stream_yields_text_then_finish_with_usage(plain):
    import torch

    torch.manual_seed(3)
    chunks = run(plain, max_tokens=300, do_sample=True)
    *body, last = chunks
    assert len(body) >= 2 and all(c.text for c in body) and all(c.queued is None for c in body)
    assert last.finish_reason == "stop" and last.text == ""
    n_prompt = len(plain.tokenizer.apply_chat_template(HELLO, add_generation_prompt=True, tokenize=False).split())
    assert last.usage["prompt_tokens"] > n_prompt  # counted in tokens, not words
    assert 1 <= last.usage["completion_tokens"] < 300
    text = text_of(chunks)
    assert text.strip() and all(ch == "\n" or 32 <= ord(ch) < 127 for ch in text)
    assert plain.models() == ["plain"] and plain.default_model == "plain"


def test_max_tokens_is_exact_on_the_endless_model(endless):
    chunks = run(endless, max_tokens=37, do_sample=True)
    assert chunks[-1].finish_reason == "length"
    assert chunks[-1].usage["completion_tokens"] == 37
    # The tokens reached the client as text: re-encoding gives about as many (BPE may merge differently).
    assert len(endless.tokenizer(text_of(chunks), add_special_tokens=False)["input_ids"]) in range(20, 75)


def test_greedy_is_repeatable_and_sampling_is_not(endless):
    import torch

    greedy = [text_of(run(endless, max_tokens=30, do_sample=False)) for _ in range(2)]
    assert greedy[0] == greedy[1] and greedy[0]
    assert text_of(run(endless, max_tokens=30, temperature=0)) == greedy[0]  # temperature 0 means greedy
    sampled = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        sampled.append(text_of(run(endless, max_tokens=30, do_sample=True, temperature=1.0)))
    assert sampled[0] != sampled[1]
    assert greedy[0] not in sampled


@pytest.mark.parametrize("path", ["endless", "serial"])  # a batch row, and generate() alone
def test_sampling_params_reach_generate(path, request):
    import torch

    endless = request.getfixturevalue(path)
    greedy = text_of(run(endless, max_tokens=30, do_sample=False))
    torch.manual_seed(7)
    # top_k=1 and a tiny top_p leave only the best token: sampling collapses onto greedy.
    assert text_of(run(endless, max_tokens=30, do_sample=True, top_k=1, temperature=1.5)) == greedy
    torch.manual_seed(7)
    assert text_of(run(endless, max_tokens=30, do_sample=True, top_p=1e-6, top_k=0, temperature=1.5)) == greedy
    # Same seed, different temperature: different text.
    torch.manual_seed(9)
    cold = text_of(run(endless, max_tokens=30, do_sample=True, temperature=0.2))
    torch.manual_seed(9)
    hot = text_of(run(endless, max_tokens=30, do_sample=True, temperature=1.8))
    assert cold != hot


def test_repetition_penalty_changes_greedy_output(endless):
    plain = text_of(run(endless, max_tokens=60, do_sample=False))
    penalized = text_of(run(endless, max_tokens=60, do_sample=False, repetition_penalty=2.0))
    assert plain != penalized
    # The tiny model's greedy reply falls into a loop; the penalty breaks it up.
    words = lambda t: len(set(t.split())) / max(1, len(t.split()))  # noqa: E731
    assert words(penalized) > words(plain)


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

PROMPTS = [[{"role": "user", "content": f"Question {i}: what do {w} do all day?"}]
           for i, w in enumerate(["cats", "dogs", "birds", "people", "servers"])]


class Streams:
    """Several streams of one backend consumed at once, each in its own thread, with timed events."""

    def __init__(self, backend):
        self.backend, self.events, self.lock, self.threads = backend, [], threading.Lock(), []
        self.chunks, self.cancels = {}, {}

    def start(self, who, messages, wait_first=True, **params):
        self.cancels[who] = threading.Event()
        self.chunks[who] = []

        def consume():
            for c in self.backend.stream(messages, model="x", params=params, cancel=self.cancels[who]):
                with self.lock:
                    self.chunks[who].append(c)
                    self.events.append((who, "queued" if c.queued else "finish" if c.finish_reason else "text",
                                        time.monotonic()))
            with self.lock:
                self.events.append((who, "end", time.monotonic()))

        t = threading.Thread(target=consume)
        t.start()
        self.threads.append(t)
        if wait_first:
            until(lambda: self.chunks[who])

    def join(self, timeout=60):
        for t in self.threads:
            t.join(timeout)
            assert not t.is_alive()

    def at(self, who, what, last=False):
        times = [t for w, x, t in self.events if w == who and x == what]
        return times[-1 if last else 0]

    def texts(self, who):
        return sum(1 for c in self.chunks[who] if c.text)


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


# ---- thinking ------------------------------------------------------------

def test_think_splitter_handles_tags_split_anywhere():
    from server.backends.local.text import ThinkSplitter

    reply = "<think>\nLet me see: 2+2.\n</think>\n\nIt is 4. <b>ok</b> <th"
    for cut in range(1, len(reply)):
        for step in (1, 2, 3, 7):
            s = ThinkSplitter()
            pieces = s.feed(reply[:cut])
            for i in range(cut, len(reply), step):
                pieces += s.feed(reply[i:i + step])
            pieces += s.flush()
            joined = {k: "".join(t for kk, t in pieces if kk == k) for k in ("reasoning", None)}
            assert joined["reasoning"] == "Let me see: 2+2.\n", (cut, step, pieces)
            assert joined[None] == "It is 4. <b>ok</b> <th", (cut, step, pieces)
            assert all(t for _, t in pieces)


def test_think_splitter_when_the_template_opened_the_block():
    from server.backends.local.text import ThinkSplitter

    s = ThinkSplitter(thinking=True)
    pieces = s.feed("hmm, ok</thi") + s.feed("nk>Answer") + s.flush()
    assert pieces == [("reasoning", "hmm, ok"), (None, "Answer")]
    s = ThinkSplitter(thinking=True)
    assert s.feed("still thinking") + s.flush() == [("reasoning", "still thinking")]


def test_template_that_opens_think_streams_reasoning(models):
    b = LocalBackend(models["think"], device="cpu")
    chunks = run(b, max_tokens=20)
    b.close()
    texts = [c for c in chunks if c.text]
    assert texts and all(c.kind == "reasoning" for c in texts)
    assert chunks[-1].usage["completion_tokens"] == 20


@pytest.mark.parametrize("incremental", [True, False], ids=["DecodeStream", "window"])
def test_detokenizer_keeps_multibyte_characters_whole(plain, incremental):
    from server.backends.local.text import Detokenizer

    text = "Caf\u00e9 na\u00efve \U0001F600 \u4e2d\u6587 ok"
    ids = plain.tokenizer(text, add_special_tokens=False)["input_ids"]
    d = Detokenizer(plain.tokenizer, incremental=incremental)
    assert (d.stream is not None) == incremental  # the tiny model's tokenizer is a fast one
    pieces = [d.add([i]) for i in ids] + [d.flush()]
    assert "".join(pieces) == text
    assert not any("\ufffd" in p for p in pieces)


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
