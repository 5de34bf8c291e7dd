"""Trimming the oldest turns so a conversation fits the model's context."""
from server.backends.base import drop_oldest_turns
from server.backends.openai_compat import OpenAICompatBackend


def turns(n):
    out = []
    for i in range(n):
        out += [{"role": "user", "content": f"q{i} " * 10}, {"role": "assistant", "content": f"a{i} " * 10}]
    return out


def test_oldest_turns_go_first_and_the_system_prompt_stays():
    messages = [{"role": "system", "content": "sys"}] + turns(5) + [{"role": "user", "content": "now"}]
    kept = drop_oldest_turns(messages, lambda ms: len(ms) <= 6)
    assert kept[0]["content"] == "sys" and kept[-1]["content"] == "now"
    assert [m["role"] for m in kept[1:]] == ["user", "assistant", "user", "assistant", "user"]
    assert kept[1]["content"].startswith("q3")


def test_the_newest_message_is_kept_even_if_nothing_fits():
    messages = turns(3) + [{"role": "user", "content": "x" * 1000}]
    assert drop_oldest_turns(messages, lambda ms: False) == messages[-1:]


def test_openai_backend_fits_by_its_context_budget():
    backend = OpenAICompatBackend("openai", "http://127.0.0.1:9/v1", None, context_tokens=100)
    messages = turns(20) + [{"role": "user", "content": "last"}]
    kept = backend.fit(messages, budget=20)
    assert sum(len(m["content"]) for m in kept) <= (100 - 20) * 3
    assert kept[-1]["content"] == "last" and kept[0]["role"] == "user" and len(kept) < len(messages)
