"""server/wire_json.py: orjson's speed with json's tolerance, and json's errors."""
from __future__ import annotations

import json

import pytest

from server import wire_json


def test_documents_round_trip_with_unicode_as_itself():
    obj = {"text": 'quote " backslash \\ 你好 \n 🙂', "seq": 3, "none": None, "ok": True, "n": 1.5}
    text = wire_json.dumps(obj)
    assert json.loads(text) == obj and wire_json.loads(text.encode()) == obj
    assert text == json.dumps(obj, separators=(",", ":"), ensure_ascii=False)  # compact, 你好 as itself


def test_lone_surrogates_from_an_upstream_still_parse_and_encode_as_json_would():
    event = wire_json.loads(b'{"choices": [{"delta": {"content": "\\ud83d"}}]}')
    assert event["choices"][0]["delta"]["content"] == "\ud83d"
    assert wire_json.dumps({"t": "\ud83d"}) == json.dumps({"t": "\ud83d"}, separators=(",", ":"))


def test_bad_json_raises_a_value_error():
    with pytest.raises(ValueError):
        wire_json.loads(b'{"cut": ')
