"""Property-based tests (hypothesis): annotation parsing and MobileNeXt's
constructor arguments."""
import math
from xml.sax.saxutils import escape

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mnext_det.datasets.checks.scan import ERROR_KINDS, parse_coco, parse_voc_xml
from mnext_det.models.backbones.mobilenext import NUM_LAYERS, MobileNeXt

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


indices = st.lists(st.integers(-2, NUM_LAYERS + 1), max_size=3)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(widen_factor=st.one_of(st.floats(-0.5, 1.0, allow_nan=False), st.just('1.0')),
       identity=st.floats(-0.2, 1.2, allow_nan=False),
       out_indices=indices, tap_indices=indices, frozen_stages=st.integers(-3, NUM_LAYERS + 1))
def test_backbone_arguments_build_a_consistent_network_or_fail_clearly(
        widen_factor, identity, out_indices, tap_indices, frozen_stages):
    try:
        net = MobileNeXt(widen_factor=widen_factor, identity_tensor_multiplier=identity,
                         out_indices=out_indices, tap_indices=tap_indices,
                         frozen_stages=frozen_stages).eval()
    except ValueError as e:
        msg = str(e)
        assert any(arg in msg for arg in ('widen_factor', 'identity_tensor_multiplier',
                                          'out_indices', 'tap_indices', 'frozen_stages'))
        return
    assert isinstance(widen_factor, float) and widen_factor > 0 and 0 < identity <= 1
    assert set(out_indices) | set(tap_indices) and -1 <= frozen_stages < NUM_LAYERS
    with torch.no_grad():
        outs = net(torch.randn(1, 3, 64, 64))
    info = net.feature_info
    assert len(outs) == len(info) == len(set(out_indices)) + len(set(tap_indices))
    for out, fi in zip(outs, info):
        assert out.shape[1] == fi['num_chs']
        assert out.shape[2] == math.ceil(64 / fi['reduction'])
        assert torch.isfinite(out).all()
    frozen = [p.requires_grad for layer in net.features[:frozen_stages + 1]
              for p in layer.parameters()]
    assert not any(frozen)


def test_nan_widen_factor_names_the_argument():
    with pytest.raises(ValueError) as e:
        MobileNeXt(widen_factor=float('nan'))
    assert 'widen_factor' in str(e.value), str(e.value)
