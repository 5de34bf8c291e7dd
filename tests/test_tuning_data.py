"""Training files: the three JSONL shapes and CSV read into conversations; every bad line refused by number."""
from __future__ import annotations

import json

import pytest

from server.tuning import data
from server.tuning.data import DataError


def jsonl(*rows) -> bytes:
    return "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows).encode()


QA = [{"role": "user", "content": "诊所几点开门？"}, {"role": "assistant", "content": "早上八点开门。"}]


def test_each_jsonl_shape_becomes_the_same_conversation():
    raw = jsonl({"messages": QA}, {"instruction": "诊所几点开门？", "output": "早上八点开门。"},
                {"prompt": "诊所几点开门？", "completion": "早上八点开门。"}, "", "  ")
    assert data.parse("facts.jsonl", raw) == [QA, QA, QA]


def test_instruction_input_is_joined_and_system_and_turns_kept():
    raw = jsonl({"instruction": "Translate to French", "input": "cheese", "output": "fromage"},
                {"messages": [{"role": "system", "content": "Be brief."}, *QA,
                              {"role": "user", "content": "周日呢？"}, {"role": "assistant", "content": "周日休息。"}]})
    first, second = data.parse("x.JSONL", raw)
    assert first[0]["content"] == "Translate to French\n\ncheese" and first[1]["content"] == "fromage"
    assert [m["role"] for m in second] == ["system", "user", "assistant", "user", "assistant"]
    assert data.preview([second])[0] == {"question": "周日呢？", "answer": "周日休息。", "turns": 5}


def test_csv_question_answer_with_quotes_and_commas():
    raw = ('question,answer\n"Opening hours, weekdays?","8:00-17:00, Monday to Friday"\n'
           '诊所在哪？,人民路 12 号\n').encode()
    ex = data.parse("faq.csv", raw)
    assert ex[0][1]["content"] == "8:00-17:00, Monday to Friday"
    assert ex[1] == [{"role": "user", "content": "诊所在哪？"}, {"role": "assistant", "content": "人民路 12 号"}]


def test_a_csv_saved_on_windows_reads_as_one_saved_elsewhere():
    """CRLF line ends and a byte-order mark, as Excel on Windows writes them; a quoted answer keeps its line break."""
    windows = '\ufeffquestion,answer\r\n"Where, exactly?","Floor 2.\r\nRoom 12."\r\n北京在哪里,中国\r\n'.encode()
    unix = 'question,answer\n"Where, exactly?","Floor 2.\nRoom 12."\n北京在哪里,中国\n'.encode()
    assert data.parse("faq.csv", windows) == data.parse("faq.csv", unix)
    assert data.parse("faq.csv", windows)[0][1]["content"] == "Floor 2.\nRoom 12."


def test_every_bad_jsonl_line_is_named_with_its_reason():
    raw = jsonl({"prompt": "ok", "completion": "ok"}, "{not json", {"prompt": "no answer"},
                {"messages": [{"role": "user", "content": "only a question"}]}, [1, 2],
                {"messages": [{"role": "robot", "content": "x"}]}, {"instruction": "", "output": "x"},
                {"question": "wrong keys"})
    with pytest.raises(DataError) as e:
        data.parse("bad.jsonl", raw)
    lines = {b["line"]: b["reason"] for b in e.value.lines}
    assert sorted(lines) == [2, 3, 4, 5, 6, 7, 8]
    assert "not JSON" in lines[2] and "'completion'" in lines[3] and "no assistant" in lines[4]
    assert "JSON object" in lines[5] and "role" in lines[6] and "'instruction'" in lines[7] and "expected" in lines[8]
    assert e.value.code == "bad_request" and "line 2" in e.value.message and "nothing queued" in e.value.message
    assert e.value.to_dict()["lines"] == e.value.lines


def test_a_line_with_a_number_too_long_to_read_is_named_not_a_crash():
    """JSON allows any length of integer; Python refuses one of over 4300 digits with a plain ValueError."""
    with pytest.raises(DataError) as e:
        data.parse("big.jsonl", b'{"prompt": "ok", "completion": "ok"}\n'
                                b'{"prompt": "n", "completion": ' + b"9" * 5000 + b"}\n")
    assert [b["line"] for b in e.value.lines] == [2]
    assert "not readable" in e.value.lines[0]["reason"] and "4300" in e.value.lines[0]["reason"]


def test_bad_csv_lines_and_headers():
    with pytest.raises(DataError) as e:
        data.parse("faq.csv", b"question,answer\nfine,yes\nonly one column\na,b,c\n,empty question\n")
    assert [(b["line"], b["reason"][:12]) for b in e.value.lines] == [
        (3, "expected 2 c"), (4, "expected 2 c"), (5, "'question' m")]
    with pytest.raises(DataError) as e:
        data.parse("faq.csv", b"q,a\nx,y\n")
    assert e.value.lines == [{"line": 1, "reason": "the first line must be the header question,answer"}]


@pytest.mark.parametrize("name,raw,words", [
    ("notes.txt", b"hello", ".jsonl"), ("empty.jsonl", b"\n\n", "no examples"),
    ("latin.csv", "question,answer\ncaf\xe9,x\n".encode("latin-1"), "UTF-8 text (line 2)"),
])
def test_wrong_files_get_a_sentence(name, raw, words):
    with pytest.raises(DataError) as e:
        data.parse(name, raw)
    assert words in e.value.message


def test_eval_split_is_held_out_and_fixed():
    examples = [[{"role": "user", "content": str(i)}, {"role": "assistant", "content": str(i)}] for i in range(40)]
    train, evals = data.split(examples, 0.1)
    assert len(train) == 36 and len(evals) == 4
    assert not [e for e in evals if e in train]
    assert data.split(examples, 0.1) == (train, evals)  # the same file splits the same way
    assert data.split(examples, 0.0) == (examples, [])
    assert data.split(examples[:1], 0.5) == (examples[:1], [])
