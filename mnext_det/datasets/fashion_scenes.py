"""Detection scenes of Fashion-MNIST items: a COCO detection set of real photographs.

Fashion-MNIST (Debian's ``dataset-fashion-mnist``) holds 28 x 28 grey photographs
of clothes in 10 classes. Each scene pastes 1 to ``max_objects`` of them, tinted
and scaled to ``min_size``-``max_size`` pixels, on a blurred random background,
and annotates each with the tight box of its visible item pixels:

``out/images/{split}_{index:05d}.jpg``          the scenes
``out/annotations/instances_{split}.json``      COCO json (``file_name`` relative
                                                to ``out/images/``)

Training scenes draw their items from Fashion-MNIST's train split, validation
scenes from its test split, so no item photograph is in both. Every scene is
drawn from its own seed ``(seed, split, index)``: the output does not depend
on order. Unlike the shapes (:mod:`.synthetic`), the objects are photographs
with their own texture, in another aspect ratio and another class count, so a
recipe or a speed ratio found on the shapes can be checked on them.
"""
import json
import os
import os.path as osp
from dataclasses import dataclass, fields
from typing import Dict, List, Optional, Tuple

import numpy as np
from PIL import Image, ImageFilter

from .fashion_mnist import CLASSES, SPLITS, load_split

__all__ = ['FashionScenesConfig', 'paste_item', 'draw_fashion_scene', 'write_fashion_scenes']

_SPLIT_IDS = {'train': 0, 'val': 1}
# an item pixel brighter than this is part of the object's box
_VISIBLE = 30
_PLACEMENT_TRIES = 10
_MAX_OVERLAP = 0.5
_MAY_BE_ZERO = ('num_train', 'num_val', 'seed')


@dataclass(frozen=True)
class FashionScenesConfig:
    """Settings of the generated scenes.

    Args:
        num_train: Training scenes. Default: 1500.
        num_val: Validation scenes. Default: 100.
        width: Scene width in pixels. Default: 480.
        height: Scene height in pixels. Default: 360.
        max_objects: Most items per scene (at least 1). Default: 5.
        min_size: Smallest pasted item side in pixels. Default: 40.
        max_size: Largest pasted item side in pixels (at most the height and
            width). Default: 170.
        seed: Base random seed. Default: 0.
    """

    num_train: int = 1500
    num_val: int = 100
    width: int = 480
    height: int = 360
    max_objects: int = 5
    min_size: int = 40
    max_size: int = 170
    seed: int = 0

    def __post_init__(self) -> None:
        for f in fields(self):
            value, least = getattr(self, f.name), (0 if f.name in _MAY_BE_ZERO else 1)
            if not isinstance(value, int) or value < least:
                raise ValueError(f'FashionScenesConfig.{f.name} must be an integer >= {least}, '
                                 f'got {value!r}')
        if self.min_size > self.max_size:
            raise ValueError(f'FashionScenesConfig.min_size ({self.min_size}) is larger than '
                             f'max_size ({self.max_size})')
        if self.max_size > min(self.width, self.height):
            raise ValueError(f'FashionScenesConfig.max_size ({self.max_size}) does not fit a '
                             f'{self.width} x {self.height} scene')


def _background(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    coarse = rng.integers(0, 256, (max(1, height // 16), max(1, width // 16), 3), dtype=np.uint8)
    img = Image.fromarray(coarse).resize((width, height), Image.BILINEAR)
    return img.filter(ImageFilter.GaussianBlur(3))


def paste_item(canvas: Image.Image, item: np.ndarray, x: int, y: int, size: int,
               color: Tuple[int, int, int]) -> Optional[Tuple[int, int, int, int]]:
    """Paste the grey ``item`` photograph scaled to ``size`` x ``size`` with its
    top-left corner at ``(x, y)``, as shading of ``color``, opaque where its
    brightness is above half and fading out below. Returns the ``(x0, y0, x1,
    y1)`` box of its visible pixels (exclusive ends), or None when none is."""
    grey = Image.fromarray(item, mode='L').resize((size, size), Image.BILINEAR)
    shade = np.asarray(grey, dtype=np.float32)[..., None] / 255
    rgb = (np.asarray(color, dtype=np.float32) * (0.35 + 0.65 * shade)).astype(np.uint8)
    opacity = np.minimum(np.asarray(grey, dtype=np.uint16) * 2, 255).astype(np.uint8)
    canvas.paste(Image.fromarray(rgb), (x, y), Image.fromarray(opacity, mode='L'))
    ys, xs = np.nonzero(np.asarray(grey) > _VISIBLE)
    if len(xs) == 0:
        return None
    return x + int(xs.min()), y + int(ys.min()), x + int(xs.max()) + 1, y + int(ys.max()) + 1


def _overlap(a: Tuple[int, int, int, int], b: Tuple[int, int, int, int]) -> float:
    """Intersection over the smaller box's area."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / smaller


def draw_fashion_scene(rng: np.random.Generator, items: np.ndarray, labels: np.ndarray,
                       cfg: FashionScenesConfig
                       ) -> Tuple[Image.Image, List[Tuple[Tuple[int, int, int, int], int]]]:
    """One scene from the ``items`` (``(N, 28, 28)`` uint8) and their class
    ``labels``: the image and its ``(box, label)`` objects. A placement that
    would cover more than half of an earlier item's square is drawn again."""
    img = _background(rng, cfg.width, cfg.height)
    objects: List[Tuple[Tuple[int, int, int, int], int]] = []
    squares: List[Tuple[int, int, int, int]] = []
    for _ in range(int(rng.integers(1, cfg.max_objects + 1))):
        k = int(rng.integers(len(items)))
        size = int(rng.integers(cfg.min_size, cfg.max_size + 1))
        color = tuple(int(c) for c in rng.integers(60, 256, 3))
        for _ in range(_PLACEMENT_TRIES):
            x = int(rng.integers(0, cfg.width - size + 1))
            y = int(rng.integers(0, cfg.height - size + 1))
            square = (x, y, x + size, y + size)
            if all(_overlap(square, s) <= _MAX_OVERLAP for s in squares):
                break
        else:
            continue
        box = paste_item(img, items[k], x, y, size, color)
        if box is not None:
            squares.append(square)
            objects.append((box, int(labels[k])))
    return img, objects


def write_fashion_scenes(src: str, out: str,
                         cfg: Optional[FashionScenesConfig] = None) -> Dict[str, int]:
    """Write the scenes of both splits under ``out`` from the idx files in
    ``src`` (both read before ``out`` is made, so a missing or bad source
    leaves nothing behind). Returns the object count per split."""
    cfg = cfg or FashionScenesConfig()
    sources = {split: load_split(src, SPLITS[split]) for split in ('train', 'val')}
    os.makedirs(osp.join(out, 'images'), exist_ok=True)
    os.makedirs(osp.join(out, 'annotations'), exist_ok=True)
    categories = [dict(id=i + 1, name=name) for i, name in enumerate(CLASSES)]
    counts = {}
    for split, num in (('train', cfg.num_train), ('val', cfg.num_val)):
        items, labels = sources[split]
        images, annotations = [], []
        for index in range(num):
            rng = np.random.default_rng((cfg.seed, _SPLIT_IDS[split], index))
            img, objects = draw_fashion_scene(rng, items, labels, cfg)
            name = f'{split}_{index:05d}.jpg'
            img.save(osp.join(out, 'images', name), quality=90)
            images.append(dict(id=index + 1, file_name=name, width=cfg.width, height=cfg.height))
            for (x0, y0, x1, y1), label in objects:
                annotations.append(dict(id=len(annotations) + 1, image_id=index + 1,
                                        category_id=label + 1, bbox=[x0, y0, x1 - x0, y1 - y0],
                                        area=(x1 - x0) * (y1 - y0), iscrowd=0))
        with open(osp.join(out, 'annotations', f'instances_{split}.json'), 'w') as f:
            json.dump(dict(images=images, annotations=annotations, categories=categories), f)
        counts[split] = len(annotations)
    return counts
