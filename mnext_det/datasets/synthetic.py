"""Deterministic built-in detection dataset ("shapes"), numpy and PIL only.

Scenes of filled shapes on textured backgrounds with clutter and partial
overlap, written in three layouts that read the same images:

``root/VOC2007/JPEGImages/{id}.jpg``            the images
``root/VOC2007/Annotations/{id}.xml``           VOC xml per image
``root/VOC2007/ImageSets/Main/{split}.txt``     VOC image sets
``root/annotations/instances_{split}.json``     COCO json (file_name relative
                                                to ``VOC2007/JPEGImages/``)
``root/crops/{split}/{class}/{id}_{k}.jpg``     object crops as an ImageFolder
                                                (for backbone pretraining)

Object sizes follow COCO's area ranges at the image size (320 by default):
small (< 32^2), medium (< 96^2) and large. Every image is drawn from its own
seed ``(seed, split, index)``, so the output does not depend on order.
"""
import json
import os
import os.path as osp
from contextlib import nullcontext
from dataclasses import dataclass
from multiprocessing import Pool
from typing import Dict, List, Optional, Sequence, Tuple
from xml.etree import ElementTree as ET

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

__all__ = ['SHAPE_CLASSES', 'SyntheticConfig', 'generate_shapes_dataset', 'dataset_exists',
           'draw_scene']

SHAPE_CLASSES: Tuple[str, ...] = ('circle', 'square', 'triangle', 'star', 'cross', 'ring')
_SPLIT_IDS = {'train': 0, 'val': 1, 'test': 2}
# fraction of small / medium / large objects (COCO areas at 320 input)
_SIZE_BINS = ((0.2, 18, 30), (0.5, 34, 90), (0.3, 100, 170))
_FORMAT_VERSION = 1


@dataclass(frozen=True)
class SyntheticConfig:
    """Settings of the generated dataset.

    Args:
        num_train: Training images. Default: 3000 (1000 overfit the demo's detectors).
        num_val: Validation images. Default: 200.
        num_test: Test images, a third split for reporting what was chosen on
            val (e.g. a learning rate). Default: 200.
        image_size: Square image side in pixels. Default: 320.
        max_objects: Most objects per image (at least 1). Default: 6.
        seed: Base random seed. Default: 0.
        crop_size: Side of the square object crops. Default: 64.
    """

    num_train: int = 3000
    num_val: int = 200
    num_test: int = 200
    image_size: int = 320
    max_objects: int = 6
    seed: int = 0
    crop_size: int = 64

    def splits(self) -> Dict[str, int]:
        return {'train': self.num_train, 'val': self.num_val, 'test': self.num_test}


def _background(rng: np.random.Generator, size: int) -> Image.Image:
    """Low-frequency colour noise plus stripes or a grid: no flat background."""
    coarse = rng.integers(40, 216, size=(rng.integers(3, 9), rng.integers(3, 9), 3))
    img = Image.fromarray(coarse.astype(np.uint8)).resize((size, size), Image.BICUBIC)
    arr = np.asarray(img, dtype=np.float32)
    xy = np.arange(size)  # broadcast to (size, size): the values of np.mgrid's, without its arrays
    angle, period = rng.uniform(0, np.pi), rng.uniform(6, 40)
    stripes = np.sin((xy[None, :] * np.cos(angle) + xy[:, None] * np.sin(angle)) * 2 * np.pi
                     / period)
    arr += rng.uniform(5, 25) * stripes[..., None]
    arr += rng.normal(0, rng.uniform(3, 12), size=arr.shape)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def _clutter(draw: ImageDraw.ImageDraw, rng: np.random.Generator, size: int) -> None:
    """Unlabelled thin lines and arcs, so edges alone do not mean objects."""
    for _ in range(rng.integers(3, 10)):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        x0, y0, x1, y1 = (int(v) for v in rng.integers(0, size, 4))
        if rng.random() < 0.5:
            draw.line((x0, y0, x1, y1), fill=colour, width=int(rng.integers(1, 3)))
        else:
            box = (min(x0, x1), min(y0, y1), max(x0, x1) + 1, max(y0, y1) + 1)
            draw.arc(box, int(rng.integers(0, 360)), int(rng.integers(0, 360)),
                     fill=colour, width=1)


def _polygon(name: str, cx: float, cy: float, r: float, rot: float) -> List[Tuple[float, float]]:
    if name == 'triangle':
        angles = rot + np.arange(3) * 2 * np.pi / 3
        radii = np.full(3, r)
    elif name == 'star':
        angles = rot + np.arange(10) * np.pi / 5
        radii = np.where(np.arange(10) % 2 == 0, r, 0.45 * r)
    else:  # cross: 12-gon of two bars
        w = 0.33 * r
        pts = [(-w, -r), (w, -r), (w, -w), (r, -w), (r, w), (w, w), (w, r), (-w, r),
               (-w, w), (-r, w), (-r, -w), (-w, -w)]
        c, s = np.cos(rot), np.sin(rot)
        return [(cx + x * c - y * s, cy + x * s + y * c) for x, y in pts]
    return [(cx + rr * np.cos(a), cy + rr * np.sin(a)) for a, rr in zip(angles, radii)]


def _draw_object(img: Image.Image, rng: np.random.Generator, name: str,
                 cx: float, cy: float, side: float) -> Tuple[float, float, float, float]:
    """Draw one object (shaded fill, darker outline) and return its tight box."""
    r = side / 2
    # work on the patch around the object only (rotated squares reach 1.2 r)
    x0, y0 = max(0, int(cx - 1.3 * r) - 2), max(0, int(cy - 1.3 * r) - 2)
    x1, y1 = min(img.size[0], int(cx + 1.3 * r) + 3), min(img.size[1], int(cy + 1.3 * r) + 3)
    px, py = cx - x0, cy - y0
    mask = Image.new('L', (x1 - x0, y1 - y0), 0)
    mdraw = ImageDraw.Draw(mask)
    if name == 'circle':
        mdraw.ellipse((px - r, py - r, px + r, py + r), fill=255)
    elif name == 'square':
        rot = rng.uniform(0, np.pi / 2)
        c, s = np.cos(rot), np.sin(rot)
        h = r / np.sqrt(2) * 1.2
        mdraw.polygon([(px + x * c - y * s, py + x * s + y * c)
                       for x, y in ((-h, -h), (h, -h), (h, h), (-h, h))], fill=255)
    elif name == 'ring':
        mdraw.ellipse((px - r, py - r, px + r, py + r), fill=255)
        ri = 0.55 * r
        mdraw.ellipse((px - ri, py - ri, px + ri, py + ri), fill=0)
    else:
        mdraw.polygon(_polygon(name, px, py, r, rng.uniform(0, 2 * np.pi)), fill=255)
    fill = np.array(rng.integers(0, 256, 3), dtype=np.float32)
    patch = np.array(img.crop((x0, y0, x1, y1)), dtype=np.float32)
    m = np.asarray(mask, dtype=np.float32)[..., None] / 255.
    shade = 1 + rng.uniform(-0.15, 0.15) * np.linspace(-1, 1, x1 - x0)[None, :, None]
    patch = patch * (1 - m) + np.clip(fill * shade, 0, 255) * m
    edge = np.asarray(mask.filter(ImageFilter.FIND_EDGES), dtype=np.float32)[..., None] / 255.
    patch = patch * (1 - 0.5 * edge)
    img.paste(Image.fromarray(patch.astype(np.uint8)), (x0, y0))
    ys, xs = np.nonzero(np.asarray(mask))
    return float(xs.min() + x0), float(ys.min() + y0), float(xs.max() + 1 + x0), \
        float(ys.max() + 1 + y0)


def _iou(a: Sequence[float], b: Sequence[float]) -> float:
    ix = max(0., min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0., min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.


def draw_scene(rng: np.random.Generator, size: int = 320, max_objects: int = 6
               ) -> Tuple[Image.Image, List[Tuple[int, Tuple[float, float, float, float]]]]:
    """Draw one scene; return the image and ``(label, (x1, y1, x2, y2))`` per object.

    Objects may overlap (IoU <= 0.3 with every earlier one, so each stays
    mostly visible); sizes are drawn from the small/medium/large bins.
    """
    img = _background(rng, size)
    draw = ImageDraw.Draw(img)
    _clutter(draw, rng, size)
    objects: List[Tuple[int, Tuple[float, float, float, float]]] = []
    scale = size / 320.
    for _ in range(int(rng.integers(1, max_objects + 1))):
        probs = np.array([b[0] for b in _SIZE_BINS])
        _, lo, hi = _SIZE_BINS[int(rng.choice(len(_SIZE_BINS), p=probs))]
        side = rng.uniform(lo, hi) * scale
        for _attempt in range(10):
            cx, cy = rng.uniform(side / 2, size - side / 2, 2)
            box = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
            if all(_iou(box, other) <= 0.3 for _, other in objects):
                break
        else:
            continue
        label = int(rng.integers(len(SHAPE_CLASSES)))
        objects.append((label, _draw_object(img, rng, SHAPE_CLASSES[label], cx, cy, side)))
    return img, objects


def _voc_xml(img_id: str, size: int,
             objects: List[Tuple[int, Tuple[float, float, float, float]]]) -> ET.ElementTree:
    root = ET.Element('annotation')
    ET.SubElement(root, 'folder').text = 'VOC2007'
    ET.SubElement(root, 'filename').text = f'{img_id}.jpg'
    sz = ET.SubElement(root, 'size')
    for key, val in (('width', size), ('height', size), ('depth', 3)):
        ET.SubElement(sz, key).text = str(val)
    for label, (x1, y1, x2, y2) in objects:
        obj = ET.SubElement(root, 'object')
        ET.SubElement(obj, 'name').text = SHAPE_CLASSES[label]
        ET.SubElement(obj, 'difficult').text = '0'
        bnd = ET.SubElement(obj, 'bndbox')
        # VOC boxes are 1-based inclusive pixels
        for key, val in (('xmin', x1 + 1), ('ymin', y1 + 1), ('xmax', x2), ('ymax', y2)):
            ET.SubElement(bnd, key).text = str(int(round(val)))
    return ET.ElementTree(root)


def _write_scene(job: Tuple[str, SyntheticConfig, str, int]
                 ) -> List[Tuple[int, Tuple[float, float, float, float]]]:
    """Draw scene ``idx`` of ``split`` from its own seed and write its image,
    VOC xml and object crops; return its objects."""
    root, cfg, split, idx = job
    voc = osp.join(root, 'VOC2007')
    rng = np.random.default_rng([cfg.seed, _SPLIT_IDS[split], idx])
    img, objects = draw_scene(rng, cfg.image_size, cfg.max_objects)
    img_id = f'{split}_{idx:06d}'
    img.save(osp.join(voc, 'JPEGImages', f'{img_id}.jpg'), quality=92)
    _voc_xml(img_id, cfg.image_size, objects).write(osp.join(voc, 'Annotations', f'{img_id}.xml'))
    for k, (label, (x1, y1, x2, y2)) in enumerate(objects):
        side = max(x2 - x1, y2 - y1) * 1.25
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        crop = img.crop((int(cx - side / 2), int(cy - side / 2),
                         int(cx + side / 2), int(cy + side / 2)))
        crop.resize((cfg.crop_size, cfg.crop_size), Image.BILINEAR).save(
            osp.join(root, 'crops', split, SHAPE_CLASSES[label], f'{img_id}_{k}.jpg'),
            quality=92)
    return objects


def _stamp_path(root: str) -> str:
    return osp.join(root, 'shapes_dataset.json')


def dataset_exists(root: str, cfg: Optional[SyntheticConfig] = None) -> bool:
    """True when ``root`` holds a complete dataset written with ``cfg``."""
    cfg = cfg or SyntheticConfig()
    path = _stamp_path(root)
    if not osp.isfile(path):
        return False
    with open(path) as f:
        stamp = json.load(f)
    return stamp == dict(version=_FORMAT_VERSION, **cfg.__dict__)


def generate_shapes_dataset(root: str, cfg: Optional[SyntheticConfig] = None,
                            progress: bool = True, workers: int = 1) -> Dict[str, int]:
    """Write the dataset under ``root`` (see module docstring).

    ``workers`` > 1 draws the scenes in that many processes; the output is the
    same for any number of workers. Returns the number of objects per split. The stamp file
    ``shapes_dataset.json`` is written last, so an interrupted run is
    regenerated by :func:`dataset_exists` checks.
    """
    cfg = cfg or SyntheticConfig()
    for key, least in (('num_train', 1), ('num_val', 1), ('num_test', 0), ('image_size', 64),
                       ('max_objects', 1), ('crop_size', 1)):
        if getattr(cfg, key) < least:
            raise ValueError(f'{key} must be >= {least}, got {getattr(cfg, key)}')
    voc = osp.join(root, 'VOC2007')
    for sub in ('JPEGImages', 'Annotations', osp.join('ImageSets', 'Main')):
        os.makedirs(osp.join(voc, sub), exist_ok=True)
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    counts = {}
    for split, num in cfg.splits().items():
        for name in SHAPE_CLASSES:
            os.makedirs(osp.join(root, 'crops', split, name), exist_ok=True)
        jobs = [(root, cfg, split, idx) for idx in range(num)]
        ids, images, annotations = [], [], []
        with Pool(workers) if workers > 1 else nullcontext() as pool:
            scenes = (pool.imap(_write_scene, jobs, chunksize=16) if pool
                      else map(_write_scene, jobs))
            for idx, objects in enumerate(scenes):
                img_id = f'{split}_{idx:06d}'
                ids.append(img_id)
                images.append(dict(id=idx, file_name=f'{img_id}.jpg', width=cfg.image_size,
                                   height=cfg.image_size))
                for label, (x1, y1, x2, y2) in objects:
                    w, h = x2 - x1, y2 - y1
                    annotations.append(dict(id=len(annotations) + 1, image_id=idx,
                                            category_id=label + 1, bbox=[x1, y1, w, h],
                                            area=w * h, iscrowd=0))
                if progress and (idx + 1) % 500 == 0:
                    print(f'[shapes] {split}: {idx + 1}/{num} images', flush=True)
        with open(osp.join(voc, 'ImageSets', 'Main', f'{split}.txt'), 'w') as f:
            f.write('\n'.join(ids) + '\n')
        coco = dict(images=images, annotations=annotations,
                    categories=[dict(id=i + 1, name=n, supercategory='shape')
                                for i, n in enumerate(SHAPE_CLASSES)])
        with open(osp.join(root, 'annotations', f'instances_{split}.json'), 'w') as f:
            json.dump(coco, f)
        counts[split] = len(annotations)
    with open(_stamp_path(root), 'w') as f:
        json.dump(dict(version=_FORMAT_VERSION, **cfg.__dict__), f)
    return counts
