"""Pictures of text for the OCR tests and bench: rendered with Pillow in a CJK font, as a phone might take them."""
from __future__ import annotations

import io
import subprocess

from PIL import Image, ImageDraw, ImageFilter, ImageFont

# A phone photo's shape (height / width). The OCR engine scales a picture's shorter side up to 736 px before it
# looks for lines, so a strip of two lines 1000x168 is read at 4380x736: 8.6-11.4 s on the loaded 2 cores here,
# against 1.4-1.9 s for the same lines on 1000x750 paper (read the same, at the same confidence).
PHOTO = 0.75


def cjk_font_path() -> str:
    """A font with Chinese glyphs (fonts-wqy-zenhei or fonts-noto-cjk from apt; .ci/run installs one)."""
    out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True).stdout
    paths = sorted(line.split(":")[0].strip() for line in out.splitlines() if line.strip())
    assert paths, "no Chinese font: apt-get install fonts-wqy-zenhei"
    return paths[0]


def render(lines: list[str], size: int = 30, width: int = 1000, angle: float = 0.0, blur: float = 0.0,
           paper: float = 0.0) -> Image.Image:
    """Black lines on white paper, optionally tilted (degrees) and blurred (Gaussian radius in pixels); paper: its
    height as a share of its width (PHOTO), or 0 for a strip just tall enough for the lines."""
    font = ImageFont.truetype(cjk_font_path(), size)
    height = max(60 + len(lines) * int(size * 1.8), round(width * paper))
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((40, 30 + i * int(size * 1.8)), line, fill="black", font=font)
    if angle:
        image = image.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor="white")
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    return image


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()


def picture_pdf(pages: list[Image.Image]) -> bytes:
    """A scanned document: a PDF whose pages are pictures only, no text layer (written by Pillow)."""
    buf = io.BytesIO()
    pages[0].save(buf, "PDF", save_all=True, append_images=pages[1:], resolution=150)
    return buf.getvalue()


def mixed_pdf(text_page: str, picture: Image.Image) -> bytes:
    """Page 1 with a text layer (reportlab), page 2 a picture alone."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.drawString(50, 800, text_page)
    c.showPage()
    c.drawImage(ImageReader(picture), 40, 400, width=500, height=500 * picture.height / picture.width)
    c.showPage()
    c.save()
    return buf.getvalue()
