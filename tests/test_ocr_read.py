"""The OCR reader alone: low-confidence lines are kept and marked, a photo's EXIF turn is undone."""
from __future__ import annotations

import numpy as np

from server.knowledge import ocr
from tests.pictures import encode, render


def test_low_confidence_lines_are_kept_and_marked():
    # Blurred this much, the last line is read with wrong characters and less confidence than LOW_CONFIDENCE
    # (0.76 measured; the others 0.87 and 0.90).
    picture = render(["诊所开放时间：周一至周五 8:00-17:00", "Clinic hours: Monday to Friday 8 am to 5 pm",
                      "请勿在走廊内大声喧哗"],
                     angle=3, blur=3.7)
    result, _ = ocr.engine()(np.asarray(picture)[:, :, ::-1], use_cls=ocr.USE_DIRECTION_CLASSIFIER)
    scores = [float(score) for _, _, score in result]
    assert min(scores) < ocr.LOW_CONFIDENCE <= max(scores), scores
    lines = ocr.marked_lines(result).split("\n")
    assert len(lines) == len(result)
    for line, (_, text, score) in zip(lines, result):
        assert line == text.strip() + (ocr.LOW_MARK if float(score) < ocr.LOW_CONFIDENCE else "")


def test_a_photo_turned_by_its_exif_tag_is_read_upright():
    upright = render(["Exit through the garden gate"], size=40)
    turned = upright.rotate(90, expand=True)  # how the camera stored it
    exif = turned.getexif()
    exif[0x0112] = 6  # Orientation: rotate 90 clockwise to display
    data = encode(turned, "JPEG", quality=90, exif=exif.tobytes())
    assert ocr.open_image(data).size == upright.size
    assert "garden gate" in ocr.image_sections(data)[0][1]
