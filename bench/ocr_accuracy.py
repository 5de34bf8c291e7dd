"""OCR character accuracy (1 - CER) and time per page: made-up notices in Chinese and English, rendered as a phone
would photograph them (tilted, blurred, JPEG), read by the server's own reader (server/knowledge/ocr.py).

python -m bench.ocr_accuracy [--repeat N]

A page is a 1200-pixel-wide notice of eight lines (four Chinese, four English, 30 px type), like a phone's
photo of a sign or a leaflet's half. The texts below were written before the reader was tuned and nothing was
tuned on them. CER is the edit distance over the reference's length, with whitespace removed from both
(the engine joins some English words, and Chinese has no spaces); "with spaces" counts them too.
Timing: the page's OCR alone (decoding excluded), against a fixed CPU reference (hashing 64 MB) measured
in the same run, so a loaded machine shows as a larger reference.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import os
import statistics
import time

from PIL import Image

from server.knowledge import ocr
from tests.pictures import render

PAGES = [
    ["社区卫生服务中心通知", "本周六上午九点至十一点免费测量血压", "请携带医保卡和既往病历",
     "咨询电话：0571-8802 3346", "Community health centre notice", "Free blood pressure checks on Saturday 9-11 am",
     "Bring your insurance card and past records", "Questions: call 0571-8802 3346"],
    ["实验室安全守则第三条", "离开前关闭所有燃气阀门和电源", "废液倒入指定的回收桶内",
     "护目镜必须全程佩戴", "Laboratory safety rule 3", "Close every gas valve and switch off power before leaving",
     "Pour waste liquids into the marked drums", "Wear safety goggles at all times"],
    ["图书馆寒假开放时间调整", "一月十五日至二月二十日每天八点半开馆", "自习室座位需在网上预约",
     "逾期归还每本每天罚款零点五元", "Library winter hours", "Open daily at 8:30 from 15 January to 20 February",
     "Study room seats must be booked online", "Late returns cost 0.5 yuan per book per day"],
]

CONDITIONS = {  # name: (angle degrees, blur radius px, JPEG quality or None)
    "clean": (0.0, 0.0, None),
    "tilted 3°": (3.0, 0.0, None),
    "blurred r=1.2": (0.0, 1.2, None),
    "tilted 5° + blur 1.0 + JPEG 60": (-5.0, 1.0, 60),
}


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def accuracy(reference: str, read: str, spaces: bool) -> float:
    if not spaces:
        reference, read = "".join(reference.split()), "".join(read.split())
    return 1 - edit_distance(reference, read) / len(reference)


def photographed(lines: list[str], angle: float, blur: float, quality: int | None) -> Image.Image:
    image = render(lines, size=30, width=1200, angle=angle, blur=blur)
    if quality:
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=quality)
        image = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return image


def reference_s() -> float:
    """A fixed CPU job (hashing 64 MB): how loaded the machine is right now."""
    data = os.urandom(1 << 20)
    start = time.perf_counter()
    for _ in range(64):
        hashlib.sha256(data).digest()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="times each page is read (timing)")
    args = parser.parse_args()
    start = time.perf_counter()
    ocr.engine()
    print(f"engine load {time.perf_counter() - start:.2f} s; load average {os.getloadavg()[0]:.1f}; "
          f"{os.cpu_count()} cores")
    print("| condition | accuracy (1-CER) | with spaces | low-confidence lines | s / page "
          "(median) | reference s | ×reference |")
    print("|---|---|---|---|---|---|---|")
    for name, (angle, blur, quality) in CONDITIONS.items():
        accs, accs_sp, times, refs, low, lines_total = [], [], [], [], 0, 0
        for lines in PAGES:
            image = photographed(lines, angle, blur, quality)
            for _ in range(args.repeat):
                refs.append(reference_s())
                t = time.perf_counter()
                text = ocr.read_picture(image)
                times.append(time.perf_counter() - t)
            low += text.count(ocr.LOW_MARK)
            lines_total += len(text.splitlines())
            read = text.replace(ocr.LOW_MARK, "")
            accs.append(accuracy("\n".join(lines), read, spaces=False))
            accs_sp.append(accuracy(" ".join(lines), " ".join(read.splitlines()), spaces=True))
        t_med, r_med = statistics.median(times), statistics.median(refs)
        print(f"| {name} | {statistics.mean(accs):.3f} | {statistics.mean(accs_sp):.3f} | {low}/{lines_total} | "
              f"{t_med:.2f} | {r_med:.2f} | {t_med / r_med:.1f} |")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
