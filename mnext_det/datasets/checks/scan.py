"""Dataset checks shared by ``tools/misc/check_dataset.py`` and training.

Three layouts are checked: COCO (one json + an image folder), VOC
(``ImageSets/Main/<split>.txt``, ``Annotations/<id>.xml``,
``JPEGImages/<id>.jpg``) and ImageFolder (``<root>/<class>/<image>``). Every
problem becomes an :class:`Issue` naming the file it is in; a
:class:`DatasetReport` counts them by kind and keeps the first offenders.

Errors make a sample unusable or wrong (missing, unreadable or truncated
image, malformed annotation, a box with non-positive size or outside the
image, an unknown category, a duplicate id, an image whose size disagrees
with its annotation). Warnings are decodable but unusual images (CMYK,
greyscale, 16-bit, EXIF-rotated, palette/alpha) and images without objects.

Needs numpy and PIL only (no mmcv, no mmdet).
"""
import json
import math
import os
import os.path as osp
from collections import Counter
from dataclasses import asdict, dataclass, field
from multiprocessing import Pool
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple
from xml.etree import ElementTree as ET

from PIL import Image, ImageFile, UnidentifiedImageError

from ..folder_walk import IMG_EXTENSIONS, class_folders, walk_class_folder

__all__ = [
    'Issue', 'DatasetReport', 'ERROR_KINDS', 'WARNING_KINDS', 'IMG_EXTENSIONS', 'VOC_CLASSES',
    'inspect_image', 'check_boxes', 'parse_coco', 'parse_voc_xml', 'check_coco', 'check_voc',
    'check_image_folder'
]

ERROR_KINDS = {
    'missing_file': 'file does not exist',
    'unreadable_image': 'not a decodable image',
    'truncated_image': 'image data ends early',
    'malformed_annotation': 'annotation file cannot be parsed or lacks fields',
    'bad_box': 'box with non-positive width/height or non-finite numbers',
    'box_outside_image': 'box reaches outside the image',
    'unknown_category': 'category id/name not among the categories; VOC: not among --classes '
                        "(default VOC's 20) or the config's metainfo.classes",
    'duplicate_id': 'the same id (or file) appears twice',
    'size_mismatch': 'annotated width/height differ from the decoded image',
    'empty_class': 'class folder without images',
}
WARNING_KINDS = {
    'cmyk_image': 'CMYK image (decoders convert it; colours may differ)',
    'greyscale_image': 'single-channel image (converted to RGB)',
    'high_bit_depth_image': '16-bit, 32-bit or float image (16-bit: read as value >> 8; '
                            '32-bit and float: refused by the classification loader)',
    'unusual_mode_image': 'palette or alpha image (converted to RGB)',
    'exif_rotated': 'EXIF orientation set: decoders rotate the pixels',
    'empty_image': 'image without objects (dropped by filter_empty_gt)',
    'not_an_image_file': 'file without an image extension (ignored)',
}
VOC_CLASSES = ('aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair',
               'cow', 'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant',
               'sheep', 'sofa', 'train', 'tvmonitor')
_ROTATING_ORIENTATIONS = (5, 6, 7, 8)  # EXIF orientations that swap width and height


@dataclass(frozen=True)
class Issue:
    """One problem: its kind (a key of ERROR_KINDS or WARNING_KINDS), the
    file it is in, and what is wrong."""
    kind: str
    file: str
    detail: str = ''

    @property
    def is_error(self) -> bool:
        return self.kind in ERROR_KINDS

    def __str__(self) -> str:
        return f'{self.file}: {self.kind}' + (f' ({self.detail})' if self.detail else '')


@dataclass
class DatasetReport:
    """Result of a dataset check."""
    layout: str
    source: str
    num_images: int = 0
    num_objects: int = 0
    issues: List[Issue] = field(default_factory=list)

    @property
    def errors(self) -> List[Issue]:
        return [i for i in self.issues if i.is_error]

    @property
    def warnings(self) -> List[Issue]:
        return [i for i in self.issues if not i.is_error]

    def counts(self) -> Dict[str, int]:
        """Number of issues per kind."""
        return dict(Counter(i.kind for i in self.issues))

    def ok(self, strict: bool = False) -> bool:
        """No errors (and, with ``strict``, no warnings)."""
        return not (self.issues if strict else self.errors)

    def format(self, max_offenders: int = 5) -> str:
        """Human-readable report: totals, then per kind its count and the
        first ``max_offenders`` offenders."""
        lines = [f'{self.layout} dataset {self.source}',
                 f'  images: {self.num_images}  objects: {self.num_objects}']
        for title, kinds in (('errors', ERROR_KINDS), ('warnings', WARNING_KINDS)):
            found = [i for i in self.issues if i.kind in kinds]
            lines.append(f'  {title}: {len(found)}')
            for kind, n in Counter(i.kind for i in found).most_common():
                lines.append(f'    {kind}: {n}  ({kinds[kind]})')
                for issue in [i for i in found if i.kind == kind][:max_offenders]:
                    lines.append(f'      {issue}')
                if n > max_offenders:
                    lines.append(f'      ... and {n - max_offenders} more')
        lines.append('  result: ' + ('OK' if self.ok() else 'FAILED'))
        return '\n'.join(lines)

    def to_dict(self) -> Dict[str, Any]:
        return dict(layout=self.layout, source=self.source, num_images=self.num_images,
                    num_objects=self.num_objects, ok=self.ok(), counts=self.counts(),
                    issues=[asdict(i) for i in self.issues])


def inspect_image(path: str, decode: bool = True) -> Tuple[List[Issue], Optional[Tuple[int, int]]]:
    """Check one image file.

    Args:
        path: Image file.
        decode: Decode all pixel data (finds truncation anywhere); otherwise
            read the header and check the file's end marker (JPEG/PNG) only.

    Returns:
        The issues and the ``(width, height)`` a decoder that applies the EXIF
        orientation yields (None when the file cannot be read).
    """
    if not osp.isfile(path):
        return [Issue('missing_file', path)], None
    issues: List[Issue] = []
    try:
        with Image.open(path) as im:
            width, height = im.size
            mode = im.mode
            orientation = im.getexif().get(0x0112, 1)
            if decode:
                _load_strict(im)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError,
            Image.DecompressionBombError) as e:
        return [Issue(_decode_error_kind(e, path), path, str(e).splitlines()[0][:200])], None
    if not decode:
        issues += _tail_issues(path)
    if mode == 'CMYK':
        issues.append(Issue('cmyk_image', path))
    elif mode in ('L', '1', 'LA'):
        issues.append(Issue('greyscale_image', path, f'mode {mode}'))
    elif mode.startswith('I') or mode == 'F':
        issues.append(Issue('high_bit_depth_image', path, f'mode {mode}'))
    elif mode not in ('RGB', 'YCbCr'):
        issues.append(Issue('unusual_mode_image', path, f'mode {mode}'))
    if orientation not in (0, 1):
        issues.append(Issue('exif_rotated', path, f'orientation {orientation}'))
        if orientation in _ROTATING_ORIENTATIONS:
            width, height = height, width
    return issues, (width, height)


def _decode_error_kind(error: Exception, path: str) -> str:
    """``truncated_image`` for PIL's messages of data that ends early
    (``image file is truncated``, ``Truncated File Read``, ``broken data
    stream``), else ``unreadable_image``; the file's own name is left out of
    the match (a text file named ``broken.jpg`` is not truncated)."""
    text = str(error).replace(path, '').lower()
    return ('truncated_image' if 'truncated' in text or 'broken data stream' in text
            else 'unreadable_image')


def _load_strict(im: Image.Image) -> None:
    # PIL decodes truncated files silently when this global flag is set.
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        im.load()
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _tail_issues(path: str) -> List[Issue]:
    """Cheap truncation check: JPEG ends with FFD9, PNG with its IEND chunk."""
    with open(path, 'rb') as f:
        head = f.read(8)
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - 1024))
        tail = f.read()
    if head[:2] == b'\xff\xd8' and b'\xff\xd9' not in tail:
        return [Issue('truncated_image', path, 'JPEG end marker missing')]
    if head == b'\x89PNG\r\n\x1a\n' and b'IEND' not in tail:
        return [Issue('truncated_image', path, 'PNG IEND chunk missing')]
    return []


def check_boxes(boxes: Iterable[Sequence[float]], width: float, height: float, where: str,
                tolerance: float = 1.0, labels: Optional[Sequence[str]] = None) -> List[Issue]:
    """Check ``(x1, y1, x2, y2)`` boxes against a ``width`` x ``height`` image.

    Args:
        boxes: Corner boxes in pixels.
        width, height: Image size.
        where: File named in the issues (the image or annotation file).
        tolerance: Pixels a box may reach past the border. Default: 1.0.
        labels: Optional names for the boxes in messages (e.g. annotation ids).
    """
    issues = []
    for k, box in enumerate(boxes):
        name = labels[k] if labels is not None else f'box {k}'
        try:
            x1, y1, x2, y2 = (float(v) for v in box)
        except (TypeError, ValueError):
            issues.append(Issue('bad_box', where, f'{name}: not 4 numbers: {box!r}'))
            continue
        if not all(math.isfinite(v) for v in (x1, y1, x2, y2)):
            issues.append(Issue('bad_box', where, f'{name}: non-finite {box!r}'))
        elif x2 <= x1 or y2 <= y1:
            issues.append(Issue('bad_box', where,
                                f'{name}: non-positive size {x2 - x1:g} x {y2 - y1:g}'))
        elif (x1 < -tolerance or y1 < -tolerance or x2 > width + tolerance
              or y2 > height + tolerance):
            issues.append(Issue('box_outside_image', where,
                                f'{name}: ({x1:g}, {y1:g}, {x2:g}, {y2:g}) vs image '
                                f'{width:g} x {height:g}'))
    return issues


def parse_coco(data: Any, ann_file: str, img_dir: str = '',
               tolerance: float = 1.0) -> Tuple[List[Dict], List[Issue], int]:
    """Check a loaded COCO annotation dict.

    Returns:
        The image records (``path``, ``width``, ``height``, ``id``), the
        annotation issues and the number of annotations.
    """
    issues: List[Issue] = []
    if not isinstance(data, Mapping):
        return [], [Issue('malformed_annotation', ann_file,
                          f'top level is {type(data).__name__}, not an object')], 0
    missing = [k for k in ('images', 'annotations', 'categories')
               if not isinstance(data.get(k), list)]
    if missing:
        return [], [Issue('malformed_annotation', ann_file,
                          f'missing or non-list keys: {missing}')], 0

    cat_ids = _unique_ids(data['categories'], 'category', ann_file, issues)
    image_ids = _unique_ids(data['images'], 'image', ann_file, issues)
    _unique_ids(data['annotations'], 'annotation', ann_file, issues)
    images: Dict[Any, Dict] = {}
    seen_files: Dict[str, Any] = {}
    for img in data['images']:
        if not isinstance(img, Mapping) or 'file_name' not in img or img.get('id') is None:
            issues.append(Issue('malformed_annotation', ann_file,
                                f'image entry without id/file_name: {str(img)[:80]}'))
            continue
        path = osp.join(img_dir, str(img['file_name']))
        if img['file_name'] in seen_files:
            issues.append(Issue('duplicate_id', path, f'file listed by image ids '
                                f'{seen_files[img["file_name"]]} and {img["id"]}'))
        seen_files[img['file_name']] = img['id']
        w, h = img.get('width'), img.get('height')
        if not (_positive_number(w) and _positive_number(h)):
            issues.append(Issue('malformed_annotation', ann_file,
                                f'image {img["id"]} ({path}): width/height {w!r}/{h!r}'))
            w = h = None
        images.setdefault(img['id'], dict(id=img['id'], path=path, width=w, height=h))

    per_image: Counter = Counter()
    for ann in data['annotations']:
        if not isinstance(ann, Mapping) or not {'image_id', 'bbox', 'category_id'} <= set(ann):
            issues.append(Issue('malformed_annotation', ann_file,
                                f'annotation without image_id/bbox/category_id: {str(ann)[:80]}'))
            continue
        img = images.get(ann['image_id'])
        if img is None:
            issues.append(Issue('malformed_annotation', ann_file,
                                f'annotation {ann.get("id")} refers to unknown image id '
                                f'{ann["image_id"]!r}'))
            continue
        per_image[ann['image_id']] += 1
        name = f'annotation {ann.get("id")}'
        if ann['category_id'] not in cat_ids:
            issues.append(Issue('unknown_category', img['path'],
                                f'{name}: category_id {ann["category_id"]!r} not in '
                                f'{sorted(cat_ids, key=str)[:20]}'))
        box = ann['bbox']
        if not (isinstance(box, (list, tuple)) and len(box) == 4):
            issues.append(Issue('bad_box', img['path'],
                                f'{name}: bbox {box!r} is not [x, y, w, h]'))
            continue
        try:
            x, y, w, h = (float(v) for v in box)
        except (TypeError, ValueError):
            issues.append(Issue('bad_box', img['path'], f'{name}: bbox {box!r} is not numeric'))
            continue
        issues += check_boxes([(x, y, x + w, y + h)], img['width'] or math.inf,
                              img['height'] or math.inf, img['path'], tolerance, [name])
    for image_id in image_ids:
        if not per_image[image_id] and image_id in images:
            issues.append(Issue('empty_image', images[image_id]['path']))
    return list(images.values()), issues, sum(per_image.values())


def _positive_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0


def _unique_ids(entries: List[Any], what: str, ann_file: str, issues: List[Issue]) -> set:
    counts = Counter(e.get('id') for e in entries if isinstance(e, Mapping))
    for value, n in counts.items():
        if value is None:
            issues.append(Issue('malformed_annotation', ann_file, f'{n} {what}(s) without id'))
        elif n > 1:
            issues.append(Issue('duplicate_id', ann_file, f'{what} id {value!r} appears {n} times'))
    return {v for v in counts if v is not None}


def parse_voc_xml(text: str, xml_path: str, classes: Sequence[str],
                  tolerance: float = 1.0) -> Tuple[Optional[Tuple[int, int]], int, List[Issue]]:
    """Check one VOC annotation (the xml text of ``xml_path``).

    Boxes are 1-based pixels and checked as mmdet's ``VOCDataset`` reads
    them (1 subtracted from every coordinate), so ``xmax == xmin`` is a box
    of zero width.

    Returns:
        The annotated ``(width, height)`` (None when absent), the number of
        objects and the issues.
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        return None, 0, [Issue('malformed_annotation', xml_path, f'xml: {e}')]
    size = None
    if root.find('size') is not None:
        try:
            w = float(root.findtext('size/width'))
            h = float(root.findtext('size/height'))
            if not (_positive_number(w) and _positive_number(h)):
                raise ValueError(f'{w} x {h}')
            size = (int(w), int(h))
        except (TypeError, ValueError) as e:
            return None, 0, [Issue('malformed_annotation', xml_path, f'<size>: {e}')]
    issues: List[Issue] = []
    boxes, names = [], []
    objects = root.findall('object')
    for k, obj in enumerate(objects):
        name = (obj.findtext('name') or '').strip()
        label = f'object {k} ({name or "no name"})'
        if name not in classes:
            issues.append(Issue('unknown_category', xml_path,
                                f'{label}: {name!r} not among the {len(classes)} classes'))
        try:
            box = [float(obj.findtext(f'bndbox/{c}')) for c in ('xmin', 'ymin', 'xmax', 'ymax')]
        except (TypeError, ValueError):
            issues.append(Issue('malformed_annotation', xml_path,
                                f'{label}: bndbox lacks numeric xmin/ymin/xmax/ymax'))
            continue
        boxes.append(tuple(v - 1 for v in box))  # mmdet's VOCDataset reading
        names.append(label)
    if size is not None:
        issues += check_boxes(boxes, size[0], size[1], xml_path, tolerance, names)
    else:
        issues += check_boxes(boxes, math.inf, math.inf, xml_path, tolerance, names)
    if not objects:
        issues.append(Issue('empty_image', xml_path))
    return size, len(objects), issues


def _inspect_many(paths: List[str], decode: bool, workers: int) -> List[Tuple]:
    if workers > 1 and len(paths) > 64:
        with Pool(workers) as pool:
            return pool.starmap(inspect_image, [(p, decode) for p in paths], chunksize=32)
    return [inspect_image(p, decode) for p in paths]


def _check_sizes(report: DatasetReport, records: List[Dict], decode: bool, workers: int,
                 check_images: bool) -> None:
    if not check_images:
        return
    results = _inspect_many([r['path'] for r in records], decode, workers)
    for record, (issues, size) in zip(records, results):
        report.issues += issues
        want = (record.get('width'), record.get('height'))
        if size is not None and None not in want and tuple(int(v) for v in want) != size:
            report.issues.append(Issue(
                'size_mismatch', record['path'],
                f'annotation says {want[0]} x {want[1]}, image is {size[0]} x {size[1]}'
                + (' after EXIF rotation' if any(i.kind == 'exif_rotated' for i in issues)
                   else '')))


def check_coco(ann_file: str, img_dir: str, check_images: bool = True, decode: bool = True,
               tolerance: float = 1.0, workers: int = 1) -> DatasetReport:
    """Check a COCO dataset: the json, its boxes and ids, and every image."""
    report = DatasetReport('COCO', f'{ann_file} (images in {img_dir})')
    if not osp.isfile(ann_file):
        report.issues.append(Issue('missing_file', ann_file, 'annotation file'))
        return report
    try:
        with open(ann_file, encoding='utf-8') as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        report.issues.append(Issue('malformed_annotation', ann_file, f'json: {e}'))
        return report
    records, issues, report.num_objects = parse_coco(data, ann_file, img_dir, tolerance)
    report.num_images = len(records)
    report.issues += issues
    _check_sizes(report, records, decode, workers, check_images)
    return report


def check_voc(root: str, split: str = 'trainval', classes: Sequence[str] = VOC_CLASSES,
              check_images: bool = True, decode: bool = True, tolerance: float = 1.0,
              workers: int = 1) -> DatasetReport:
    """Check a VOC dataset folder (e.g. ``data/VOCdevkit/VOC2007``): the ids of
    ``ImageSets/Main/<split>.txt``, their xml files and images."""
    split_file = osp.join(root, 'ImageSets', 'Main', f'{split}.txt')
    report = DatasetReport('VOC', f'{root} (split {split})')
    if not osp.isfile(split_file):
        report.issues.append(Issue('missing_file', split_file, 'image set file'))
        return report
    with open(split_file, encoding='utf-8') as f:
        ids = [ln.split()[0] for ln in f if ln.strip()]
    for img_id, n in Counter(ids).items():
        if n > 1:
            report.issues.append(Issue('duplicate_id', split_file,
                                       f'id {img_id} appears {n} times'))
    records = []
    for img_id in dict.fromkeys(ids):
        xml_path = osp.join(root, 'Annotations', f'{img_id}.xml')
        if not osp.isfile(xml_path):
            report.issues.append(Issue('missing_file', xml_path, f'annotation of {img_id}'))
            continue
        with open(xml_path, encoding='utf-8', errors='replace') as f:
            size, n_obj, issues = parse_voc_xml(f.read(), xml_path, classes, tolerance)
        report.num_objects += n_obj
        report.issues += issues
        width, height = size if size is not None else (None, None)
        records.append(dict(path=osp.join(root, 'JPEGImages', f'{img_id}.jpg'),
                            width=width, height=height))
    report.num_images = len(records)
    _check_sizes(report, records, decode, workers, check_images)
    return report


def check_image_files(paths: Sequence[str], name: str, decode: bool = True,
                      workers: int = 1) -> DatasetReport:
    """Check listed image files, e.g. those an ``ImageFolderDataset`` with a
    label file (flat val layout) reads; ``name`` labels the report."""
    report = DatasetReport('ImageFolder', name)
    report.num_images = len(paths)
    for issues, _ in _inspect_many(list(paths), decode, workers):
        report.issues += issues
    return report


def check_image_folder(root: str, decode: bool = True, workers: int = 1) -> DatasetReport:
    """Check a classification folder ``<root>/<class>/**/<image>``."""
    report = DatasetReport('ImageFolder', root)
    if not osp.isdir(root):
        report.issues.append(Issue('missing_file', root, 'image folder'))
        return report
    classes = class_folders(root)
    if not classes:
        report.issues.append(Issue('malformed_annotation', root, 'no class sub-folders'))
        return report
    paths = []
    for name in classes:
        images, others = walk_class_folder(osp.join(root, name))
        paths += images
        report.issues += [Issue('not_an_image_file', path) for path in others]
        if not images:
            report.issues.append(Issue('empty_class', osp.join(root, name)))
    report.num_images = len(paths)
    for issues, _ in _inspect_many(paths, decode, workers):
        report.issues += issues
    return report
