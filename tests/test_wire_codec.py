"""server/wire/codec.py: orjson's speed with json's tolerance, and json's errors."""
from __future__ import annotations

import json

import pytest

from server.wire import codec


def test_documents_round_trip_with_unicode_as_itself():
    obj = {"text": 'quote " backslash \\ 你好 \n 🙂', "seq": 3, "none": None, "ok": True, "n": 1.5}
    text = codec.dumps(obj)
    assert json.loads(text) == obj and codec.loads(text.encode()) == obj
    assert text == json.dumps(obj, separators=(",", ":"), ensure_ascii=False)  # compact, 你好 as itself


def test_lone_surrogates_from_an_upstream_still_parse_and_encode_as_json_would():
    event = codec.loads(b'{"choices": [{"delta": {"content": "\\ud83d"}}]}')
    assert event["choices"][0]["delta"]["content"] == "\ud83d"
    assert codec.dumps({"t": "\ud83d"}) == json.dumps({"t": "\ud83d"}, separators=(",", ":"))


def test_bad_json_raises_a_value_error():
    with pytest.raises(ValueError):
        codec.loads(b'{"cut": ')
