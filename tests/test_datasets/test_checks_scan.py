"""Bad data: mnext_det.datasets.checks.scan catches each case with its file
named, for COCO, VOC and ImageFolder layouts; property-based tests (hypothesis)
of the COCO and VOC annotation parsers."""
import math
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mnext_det.datasets.checks.scan import (ERROR_KINDS, check_coco, check_image_folder,
                                           check_voc, inspect_image, parse_coco, parse_voc_xml)

from .bad_data import write_bad_coco, write_bad_images, write_bad_voc, write_truncated


def _has(report, kind, file_end, detail=''):
    hits = [i for i in report.issues if i.kind == kind and i.file.endswith(file_end)
            and detail in i.detail]
    assert hits, f'no {kind} for {file_end}:\n{report.format(50)}'


@pytest.mark.parametrize('decode', [True, False])
def test_image_cases(tmp_path, decode):
    expected = write_bad_images(str(tmp_path))
    assert inspect_image(str(tmp_path / 'good.jpg'), decode) == ([], (40, 30))
    for name, kind in expected.items():
        issues, size = inspect_image(str(tmp_path / name), decode)
        assert kind in [i.kind for i in issues] and all(i.file.endswith(name) for i in issues)
    assert inspect_image(str(tmp_path / 'rotated.jpg'))[1] == (30, 40)
    assert inspect_image(str(tmp_path / 'nope.jpg'))[0][0].kind == 'missing_file'


def test_coco_cases(tmp_path):
    ann_file, img_dir, expected = write_bad_coco(tmp_path)
    report = check_coco(ann_file, img_dir)
    for name, kind in expected.items():
        _has(report, kind, name)
    _has(report, 'missing_file', 'missing.jpg')
    _has(report, 'size_mismatch', 'rotated_raw_size.jpg', 'after EXIF rotation')
    _has(report, 'bad_box', 'good.jpg', 'annotation 200: non-positive size 0 x 8')
    _has(report, 'box_outside_image', 'good.jpg', 'annotation 201')
    _has(report, 'unknown_category', 'good.jpg', 'annotation 202: category_id 7')
    _has(report, 'duplicate_id', 'instances.json', 'annotation id 202 appears 2 times')
    _has(report, 'duplicate_id', 'instances.json', 'image id 101 appears 2 times')
    _has(report, 'empty_image', 'empty.jpg')
    assert not [i for i in report.issues if i.file.endswith('rotated.jpg')
                and i.kind == 'size_mismatch']
    assert not report.ok()
    assert report.counts()['truncated_image'] == 2


@pytest.mark.parametrize('text, detail', [('{"images": [', 'json:'),
                                          ('[1, 2]', 'top level is list'),
                                          ('{"images": []}', 'missing or non-list keys')])
def test_coco_malformed_json(tmp_path, text, detail):
    ann_file = tmp_path / 'bad.json'
    ann_file.write_text(text)
    report = check_coco(str(ann_file), str(tmp_path))
    _has(report, 'malformed_annotation', 'bad.json', detail)


def test_voc_cases(tmp_path):
    root = write_bad_voc(tmp_path)
    report = check_voc(root)
    _has(report, 'malformed_annotation', 'badxml.xml', 'xml:')
    _has(report, 'unknown_category', 'unknown.xml', "'unicorn'")
    _has(report, 'bad_box', 'flat.xml', 'non-positive size')
    _has(report, 'box_outside_image', 'outside.xml')
    _has(report, 'missing_file', 'JPEGImages/noimage.jpg')
    _has(report, 'missing_file', 'Annotations/noxml.xml')
    _has(report, 'empty_image', 'empty.xml')
    _has(report, 'duplicate_id', 'trainval.txt', 'id ok appears 2 times')
    _has(report, 'truncated_image', 'truncated.jpg')
    assert not [i for i in report.issues if '/ok.' in i.file]


def test_image_folder_cases(tmp_path):
    expected = write_bad_images(str(tmp_path / 'train' / 'a'))
    (tmp_path / 'train' / 'b').mkdir()
    (tmp_path / 'train' / 'a' / 'notes.txt').write_text('x')
    report = check_image_folder(str(tmp_path / 'train'))
    for name, kind in expected.items():
        _has(report, kind, name)
    _has(report, 'empty_class', 'train/b')
    _has(report, 'not_an_image_file', 'notes.txt')
    assert report.num_images == 8


SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def coco_datasets(draw):
    """Valid COCO dicts: unique ids, boxes of positive size inside their image."""
    n_images = draw(st.integers(1, 6))
    images = []
    for i in range(n_images):
        w, h = draw(st.integers(8, 640)), draw(st.integers(8, 640))
        images.append(dict(id=i * 7 + 1, file_name=f'{i:04d}.jpg', width=w, height=h))
    cats = [dict(id=c, name=f'c{c}') for c in draw(st.sets(st.integers(1, 90), min_size=1,
                                                          max_size=5))]
    anns = []
    for img in images:
        for _ in range(draw(st.integers(0, 4))):
            x = draw(st.floats(0, img['width'] - 2))
            y = draw(st.floats(0, img['height'] - 2))
            w = draw(st.floats(1, img['width'] - x))
            h = draw(st.floats(1, img['height'] - y))
            anns.append(dict(id=len(anns) + 1, image_id=img['id'],
                             category_id=draw(st.sampled_from(cats))['id'], bbox=[x, y, w, h]))
    return dict(images=images, annotations=anns, categories=cats)


@SETTINGS
@given(coco_datasets())
def test_valid_coco_has_no_errors(data):
    records, issues, n = parse_coco(data, 'ann.json', 'img')
    assert [i for i in issues if i.is_error] == []
    assert n == len(data['annotations']) and len(records) == len(data['images'])
    with_objects = {a['image_id'] for a in data['annotations']}
    assert sorted(i.file for i in issues) == sorted(
        f'img/{im["file_name"]}' for im in data['images'] if im['id'] not in with_objects)


@SETTINGS
@given(coco_datasets(), st.data())
def test_one_broken_annotation_is_reported_with_its_image(data, draw):
    if not data['annotations']:
        return
    ann = draw.draw(st.sampled_from(data['annotations']))
    img = next(im for im in data['images'] if im['id'] == ann['image_id'])
    breakage = draw.draw(st.sampled_from(['zero_width', 'outside', 'nan', 'category']))
    if breakage == 'zero_width':
        ann['bbox'][2], kind = 0, 'bad_box'
    elif breakage == 'outside':
        ann['bbox'][0], kind = img['width'] + 5, 'box_outside_image'
    elif breakage == 'nan':
        ann['bbox'][1], kind = math.nan, 'bad_box'
    else:
        ann['category_id'], kind = 1000, 'unknown_category'
    _, issues, _ = parse_coco(data, 'ann.json', 'img')
    errors = [i for i in issues if i.is_error]
    assert len(errors) == 1
    assert errors[0].kind == kind and errors[0].file == f'img/{img["file_name"]}'
    assert f'annotation {ann["id"]}' in errors[0].detail


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(['images', 'annotations', 'categories', 'id', 'bbox', 'image_id',
                         'category_id', 'file_name', 'width', 'height']), children, max_size=5),
    max_leaves=30)


@SETTINGS
@given(json_values)
def test_arbitrary_json_never_crashes_the_coco_parser(data):
    _, issues, _ = parse_coco(data, 'ann.json')
    assert all(i.kind in ERROR_KINDS or i.kind == 'empty_image' for i in issues)


@st.composite
def voc_objects(draw, width, height):
    x1 = draw(st.integers(1, width - 1))
    y1 = draw(st.integers(1, height - 1))
    return (draw(st.sampled_from(['cat', 'dog'])), x1, y1,
            draw(st.integers(x1 + 1, width)), draw(st.integers(y1 + 1, height)))


def _voc_xml(width, height, objects):
    objs = ''.join(f'<object><name>{escape(n)}</name><bndbox><xmin>{a}</xmin><ymin>{b}</ymin>'
                   f'<xmax>{c}</xmax><ymax>{d}</ymax></bndbox></object>'
                   for n, a, b, c, d in objects)
    return (f'<annotation><size><width>{width}</width><height>{height}</height></size>'
            f'{objs}</annotation>')


@SETTINGS
@given(st.integers(4, 500), st.integers(4, 500), st.data())
def test_valid_voc_roundtrip(width, height, data):
    objects = data.draw(st.lists(voc_objects(width, height), min_size=1, max_size=6))
    size, n, issues = parse_voc_xml(_voc_xml(width, height, objects), 'a.xml', ('cat', 'dog'))
    assert (size, n, issues) == ((width, height), len(objects), [])


@SETTINGS
@given(st.integers(4, 500), st.integers(4, 500), st.data())
def test_voc_box_errors_name_the_object(width, height, data):
    objects = data.draw(st.lists(voc_objects(width, height), min_size=1, max_size=4))
    k = data.draw(st.integers(0, len(objects) - 1))
    name, x1, y1, x2, y2 = objects[k]
    objects[k] = (name, x1, y1, x1, y2)  # xmax == xmin: zero width once mmdet subtracts 1
    _, _, issues = parse_voc_xml(_voc_xml(width, height, objects), 'a.xml', ('cat', 'dog'))
    assert [(i.kind, i.file) for i in issues] == [('bad_box', 'a.xml')]
    assert issues[0].detail.startswith(f'object {k} ({name})')


@SETTINGS
@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes_the_voc_parser(text):
    _, _, issues = parse_voc_xml(text, 'a.xml', ('cat', ))
    assert all(i.file == 'a.xml' for i in issues)


def test_the_kind_of_a_decode_error_comes_from_the_error_not_the_file_name(tmp_path):
    """The kind was matched against a message holding the path, case-sensitively:
    a text file named broken.jpg was 'truncated', a cut JPEG 'unreadable'."""
    from mnext_det.datasets.checks.scan import inspect_image
    cut = write_truncated(str(tmp_path / 'photo.jpg'))
    not_an_image = tmp_path / 'broken.jpg'
    not_an_image.write_text('hello')
    assert inspect_image(cut)[0][0].kind == 'truncated_image'
    assert inspect_image(str(not_an_image))[0][0].kind == 'unreadable_image'
    assert inspect_image(write_truncated(str(tmp_path / 'icon.png')))[0][0].kind == \
        'truncated_image'
