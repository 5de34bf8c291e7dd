"""Does every pin in requirements.txt install as a wheel on each platform and Python we support?

    python tools/check_wheels.py [REQUIREMENTS] [--pip]

For each (platform, Python) pair, each requirement whose environment marker holds there (evaluated with
packaging.markers for that platform, not this machine) must have a wheel that pip would take. By default the
wheel file names come from the package index's JSON (one request per pin: seconds) and are matched with
packaging.tags, the code pip itself uses; --pip asks pip instead (`pip install --dry-run --only-binary=:all:
--platform ... --python-version ... --implementation cp`, one resolve per pair: minutes). Run it before
changing a pin. Exit status 0 when every pair passes.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from packaging.requirements import Requirement
from packaging.tags import compatible_tags, cpython_tags, mac_platforms
from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHONS = ("3.11", "3.12", "3.13")
# Pure-Python packages published only as a source archive: pip builds their wheel without a compiler. jieba 0.42.1
# (setup.py, .py files and dictionaries, no extension) builds on 3.11, 3.12 and 3.13 (tried on Linux).
PURE_SDIST = {"jieba"}
INDEX = "https://pypi.org/pypi/{name}/json"  # the per-release URL is not served by every mirror


def _linux(arch: str) -> list[str]:
    """manylinux_2_28 (glibc 2.28: Debian 10+, Ubuntu 20.04+, RHEL 8+) and every older manylinux tag."""
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    out = []
    for minor in range(28, 4, -1):
        out.append(f"manylinux_2_{minor}_{arch}")
        if minor in legacy and (arch == "x86_64" or minor == 17):
            out.append(f"{legacy[minor]}_{arch}")
    return out


# name: (marker environment, wheel platform tags pip accepts there, pip's --platform values). pip expands a
# --platform macosx_15_0_arm64 to the older macOS tags itself, but not a manylinux_2_28 one: each is named.
PLATFORMS = {
    "windows-x86_64": ({"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt",
                        "platform_machine": "AMD64", "platform_release": "10"}, ["win_amd64"], ["win_amd64"]),
    "macos15-arm64": ({"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix",
                       "platform_machine": "arm64", "platform_release": "24.0.0"},
                      list(mac_platforms((15, 0), "arm64")), ["macosx_15_0_arm64"]),
    "linux-x86_64": ({"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
                      "platform_machine": "x86_64", "platform_release": "6.8.0"}, _linux("x86_64"), _linux("x86_64")),
    "linux-aarch64": ({"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
                       "platform_machine": "aarch64", "platform_release": "6.8.0"}, _linux("aarch64"),
                      _linux("aarch64")),
    # macOS 14 (Darwin 23) on Apple Silicon: not one of the 12 pairs, checked so that its markers are too.
    "macos14-arm64": ({"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix",
                       "platform_machine": "arm64", "platform_release": "23.0.0"},
                      list(mac_platforms((14, 0), "arm64")), ["macosx_14_0_arm64"]),
}


def requirements(path: str) -> list[Requirement]:
    """The pinned requirements of one file (lines like `-r other.txt` and comments skipped)."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split(" #", 1)[0].strip()
            if line and not line.startswith(("#", "-")):
                out.append(Requirement(line))
    return out


def environment(platform: str, python: str) -> dict:
    env = {"implementation_name": "cpython", "platform_python_implementation": "CPython",
           "python_version": python, "python_full_version": python + ".0", "implementation_version": python + ".0"}
    return {**env, **PLATFORMS[platform][0]}


def pinned(req: Requirement) -> str:
    (spec,) = req.specifier
    assert spec.operator == "==", f"{req}: pin it with =="
    return spec.version


def wheel_tags(req: Requirement) -> list[frozenset]:
    """The tag sets of every wheel of the pinned release, from the index's JSON (py3-none-any for PURE_SDIST)."""
    with urllib.request.urlopen(INDEX.format(name=req.name), timeout=60) as r:
        files = json.load(r)["releases"].get(pinned(req), [])
    if canonicalize_name(req.name) in PURE_SDIST and any(f["packagetype"] == "sdist" for f in files):
        return [frozenset(parse_wheel_filename("x-1-py3-none-any.whl")[3])]
    return [parse_wheel_filename(f["filename"])[3] for f in files if f["filename"].endswith(".whl")]


def accepted(platform: str, python: str) -> set:
    """The tags pip accepts for CPython `python` on `platform`, best first as packaging orders them."""
    version = tuple(int(p) for p in python.split("."))
    plats = PLATFORMS[platform][1]
    return (set(cpython_tags(version, platforms=plats))
            | set(compatible_tags(version, f"cp{version[0]}{version[1]}", plats)))


def by_json(reqs: list[Requirement]) -> dict:
    """{(platform, python): [missing requirement, ...]} from the index's JSON."""
    with ThreadPoolExecutor(8) as pool:
        tags = dict(zip((r.name for r in reqs), pool.map(wheel_tags, reqs)))
    out = {}
    for platform in PLATFORMS:
        for python in PYTHONS:
            ok = accepted(platform, python)
            env = environment(platform, python)
            wanted = [r for r in reqs if r.marker is None or r.marker.evaluate(env)]
            out[platform, python] = ([str(r) for r in wanted if not any(t & ok for t in tags[r.name])], len(wanted))
    return out


def by_pip(reqs: list[Requirement]) -> dict:
    """The same question asked of pip: one dry-run resolve per pair, every wanted pin at once, no dependencies."""
    out = {}
    for platform in PLATFORMS:
        for python in PYTHONS:
            env = environment(platform, python)
            wanted = [f"{r.name}{r.extras and '[' + ','.join(sorted(r.extras)) + ']' or ''}=={pinned(r)}"
                      for r in reqs if (r.marker is None or r.marker.evaluate(env))
                      and canonicalize_name(r.name) not in PURE_SDIST]
            with tempfile.TemporaryDirectory() as target:
                cmd = [sys.executable, "-m", "pip", "--isolated", "install", "--dry-run", "--ignore-installed",
                       "--no-deps",
                       "--only-binary=:all:", "--python-version", python, "--implementation", "cp", "--target", target,
                       *(f"--platform={p}" for p in PLATFORMS[platform][2]), *wanted]
                p = subprocess.run(cmd, capture_output=True, text=True)
            missing = [] if p.returncode == 0 else \
                [line for line in p.stderr.splitlines() if "ERROR" in line][:1] or ["pip failed"]
            out[platform, python] = (missing, len(wanted))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("requirements", nargs="?", default=os.path.join(ROOT, "requirements.txt"))
    ap.add_argument("--pip", action="store_true", help="ask pip (minutes) instead of the index's JSON (seconds)")
    args = ap.parse_args()
    reqs = requirements(args.requirements)
    results = (by_pip if args.pip else by_json)(reqs)
    failed = 0
    print(f"{'platform':16} {'python':6} {'pins':>4}  result")
    for (platform, python), (missing, n) in results.items():
        failed += bool(missing)
        print(f"{platform:16} {python:6} {n:4}  "
              f"{'wheels for all' if not missing else 'MISSING: ' + ', '.join(missing)}")
    print(f"{len(results) - failed} of {len(results)} pairs install as wheels ({'pip' if args.pip else 'index JSON'}); "
          f"built from source, pure Python: {', '.join(sorted(PURE_SDIST))}.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
