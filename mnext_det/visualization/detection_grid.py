"""A picture of several detectors on the same images: the ground truth row,
then one row per detector."""
import json
import os.path as osp
from typing import List, Sequence, Tuple

import numpy as np

__all__ = ['detection_grid']

_SCORE_THR = 0.3


def detection_grid(detectors: Sequence[Tuple[str, str, str]], ann_file: str, img_dir: str,
                   class_names: Sequence[str], path: str, num_images: int = 4,
                   score_thr: float = _SCORE_THR) -> None:
    """Draw the first ``num_images`` images of the COCO ``ann_file`` with their
    boxes, then each ``(name, config, checkpoint)`` detector's detections above
    ``score_thr``, and save the grid to ``path``."""
    import mmcv
    from mmdet.apis import inference_detector, init_detector
    from PIL import Image

    from .boxes import draw_detections
    with open(ann_file) as f:
        coco = json.load(f)
    images = coco['images'][:num_images]
    files = [osp.join(img_dir, info['file_name']) for info in images]
    # as the config's LoadImageFromFile reads them (BGR, upright by their EXIF
    # orientation), detected and drawn from the same array
    loaded = [mmcv.imread(file) for file in files]
    missing = [file for file, img in zip(files, loaded) if img is None]
    if missing:
        raise ValueError(f'{ann_file}: not readable images: {", ".join(missing)}')
    pixels = [np.ascontiguousarray(img[..., ::-1]) for img in loaded]
    gt_row = []
    for info, img in zip(images, pixels):
        anns = [a for a in coco['annotations'] if a['image_id'] == info['id']]
        boxes = np.array([[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2],
                           a['bbox'][1] + a['bbox'][3]] for a in anns]).reshape(-1, 4)
        gt_row.append(draw_detections(img, boxes, [a['category_id'] - 1 for a in anns],
                                      [1.0] * len(anns), class_names, 0.0, 'ground truth'))
    rows: List[list] = [gt_row]
    for name, config, checkpoint in detectors:
        model = init_detector(config, checkpoint, device='cpu')
        row = []
        for bgr, img in zip(loaded, pixels):
            pred = inference_detector(model, bgr).pred_instances
            row.append(draw_detections(img, pred.bboxes.numpy(), pred.labels.numpy(),
                                       pred.scores.numpy(), class_names, score_thr, name))
        rows.append(row)
    w, h = rows[0][0].size
    grid = Image.new('RGB', (w * len(images), h * len(rows)), (255, 255, 255))
    for r, row in enumerate(rows):
        for c, img in enumerate(row):
            grid.paste(img, (c * w, r * h))
    grid.save(path)
