"""Detections drawn on an image: the one box-drawing function."""
from typing import Sequence

import numpy as np

__all__ = ['draw_detections']

_PALETTE = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
            (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212)]


def draw_detections(image: np.ndarray, bboxes: np.ndarray, labels: Sequence[int],
                    scores: Sequence[float], class_names: Sequence[str],
                    score_thr: float = 0.3, title: str = ''):
    """Return a PIL image of ``image`` (HxWx3 RGB uint8) with the boxes
    (x1, y1, x2, y2) scoring at least ``score_thr`` drawn, labelled ``class
    score`` (the label index for a label beyond ``class_names``)."""
    from PIL import Image, ImageDraw
    img = Image.fromarray(image)
    draw = ImageDraw.Draw(img)
    for box, label, score in zip(bboxes, labels, scores):
        if score < score_thr:
            continue
        label = int(label)
        colour = _PALETTE[label % len(_PALETTE)]
        x1, y1, x2, y2 = (float(v) for v in box)
        draw.rectangle((x1, y1, x2, y2), outline=colour, width=2)
        name = class_names[label] if 0 <= label < len(class_names) else str(label)
        text = f'{name} {score:.2f}'
        draw.rectangle((x1, max(0, y1 - 11), x1 + 6 * len(text), y1), fill=colour)
        draw.text((x1 + 1, max(0, y1 - 11)), text, fill=(0, 0, 0))
    if title:
        draw.rectangle((0, 0, 7 * len(title) + 4, 12), fill=(0, 0, 0))
        draw.text((2, 0), title, fill=(255, 255, 255))
    return img
