"""Text out of pictures (photos, scans, a PDF's picture pages) by OCR on this machine, with no network."""
from __future__ import annotations

import io
import logging
import threading
import warnings

from ..errors import ChatError

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")
# What iPhones send by default; Pillow cannot read it without libheif (pillow-heif), which is not required here.
UNREADABLE_PHOTOS = (".heic", ".heif")
# Pixels checked from the header before anything is decoded: a 20000x20000 PNG is a few KB on disk and
# 1.2 GB in memory. 50 MP covers the largest phone cameras (48-50 MP, 8000x6000).
MAX_PIXELS = 50_000_000
# Longest side the engine is given (rapidocr's own max_side_len): a phone photo of an A4 page keeps 10-20 px
# letters at 2000 px; shrinking a 50 MP photo here first, with Pillow, saves a 150 MB copy in OpenCV.
MAX_SIDE = 2000
# Lines read with less confidence are kept but marked. Measured: a 900x300 phone photo read at 0.96-0.99; the
# one line of bench/ocr_accuracy.py's 96 read as garbage (before the classifier below was turned off) scored
# under 0.8, and so did a line read with wrong characters from a picture blurred far past a phone's (0.76,
# tests/test_ocr_read.py), while the right lines around it scored 0.87-0.90.
LOW_CONFIDENCE = 0.8
LOW_MARK = " (?)"
# How far a detected line's box is grown before it is read. rapidocr's 1.6 left a whole sharp English line
# undetected on a clean 1200x492 render (bench/ocr_accuracy.py: 22 of 24 lines, accuracy 0.85); 2.0 read it.
UNCLIP_RATIO = 2.0
# rapidocr's direction classifier (is a line upside down?) is left off: it turned a sharp, upright English line
# by 180 degrees and read it as garbage on a clean render (bench/ocr_accuracy.py, page 3: 0.81 -> 1.0 without
# it), and a phone photo is already turned upright by its EXIF tag.
USE_DIRECTION_CLASSIFIER = False

_engine = None
_engine_lock = threading.Lock()  # onnxruntime sessions are shared; one picture at a time keeps memory flat


def bad(message: str) -> ChatError:
    return ChatError("bad_request", message)


def engine():
    """The OCR engine, loaded once (PP-OCRv4 det/cls/rec from rapidocr-onnxruntime's wheel, ~0.2 s)."""
    global _engine
    if _engine is None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as e:  # e.g. OpenCV without libGL.so.1 (apt-get install libgl1), or no wheel here
            log.warning("OCR cannot start: %s", e)
            raise ChatError("unavailable", "Pictures cannot be read on this server: its OCR engine cannot start "
                                           "(the server log says why).") from None
        _engine = RapidOCR(det_unclip_ratio=UNCLIP_RATIO)
    return _engine


def open_image(data: bytes):
    """A decoded RGB picture upright as the camera held it; ChatError for what is not a whole, sane picture."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise bad("The file is empty.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data))  # reads the header only
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise bad(f"The picture is {width}x{height} pixels; the limit is {MAX_PIXELS // 1_000_000} megapixels.")
            if image.format not in ("PNG", "JPEG", "WEBP", "MPO", "GIF", "BMP", "TIFF"):
                raise bad("The file is not a picture this server can read (PNG, JPEG or WebP).")
            image.load()
            image = ImageOps.exif_transpose(image).convert("RGB")
    except ChatError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):  # Pillow's own check, at 89 MP and up
        raise bad(f"The picture has more pixels than the limit of {MAX_PIXELS // 1_000_000} megapixels.")
    except UnidentifiedImageError:
        raise bad("The file is not a picture this server can read (PNG, JPEG or WebP).")
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError):
        raise bad("The picture cannot be read; it may be cut short or damaged.")
    if image.width < 8 or image.height < 8:
        raise bad("The picture is too small to hold text.")
    return image


def read_picture(image) -> str:
    """The lines of text in one RGB picture, top to bottom; low-confidence lines end with LOW_MARK."""
    import numpy as np

    scale = MAX_SIDE / max(image.size)
    if scale < 1:
        image = image.resize((round(image.width * scale), round(image.height * scale)))
    with _engine_lock:
        result, _ = engine()(np.asarray(image)[:, :, ::-1], use_cls=USE_DIRECTION_CLASSIFIER)  # OpenCV's order: BGR
    return marked_lines(result)


def marked_lines(result) -> str:
    """The engine's [box, text, score] lines as text, one a line; those read with low confidence marked."""
    out = []
    for _box, text, score in result or []:
        text = text.strip()
        if text:
            out.append(text + (LOW_MARK if float(score) < LOW_CONFIDENCE else ""))
    return "\n".join(out)


def image_sections(data: bytes, on_page=None) -> list:
    """[(None, text)] of an uploaded picture; on_page(done, total) reports progress."""
    image = open_image(data)
    if on_page:
        on_page(0, 1)
    text = read_picture(image)
    if on_page:
        on_page(1, 1)
    return [(None, text)]


def pdf_picture_pages(reader, sections: list, on_page=None) -> list:
    """A PDF's sections with each page that has no text layer read from its pictures; others kept as they are."""
    todo = [i for i, (_, text) in enumerate(sections) if not (text or "").strip()]
    out = list(sections)
    for n, i in enumerate(todo):
        if on_page:
            on_page(n, len(todo))
        texts = []
        try:
            pictures = list(reader.pages[i].images)
        except Exception:  # a damaged or unsupported image stream: the page stays empty, as before
            log.warning("page %d: its pictures cannot be extracted", i + 1, exc_info=True)
            pictures = []
        for picture in pictures:
            try:
                texts.append(read_picture(open_image(picture.data)))
            except ChatError as e:
                log.info("page %d: a picture was skipped: %s", i + 1, e.message)
        out[i] = (sections[i][0], "\n".join(t for t in texts if t))
    if todo and on_page:
        on_page(len(todo), len(todo))
    return out
