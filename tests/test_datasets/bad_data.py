"""Bad data on disk for the dataset checks: images of every bad kind (grey,
CMYK, 16-bit, EXIF-rotated, truncated, garbage) and COCO and VOC datasets
whose annotations hold every annotation-level fault."""
import json
import os
import os.path as osp

import numpy as np
from PIL import Image


def write_rgb(path, w=40, h=30, mode='RGB', **save):
    """A seeded random ``w`` x ``h`` image in ``mode``, saved with ``save``."""
    arr = np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8)
    img = Image.fromarray(arr)
    if mode != 'RGB':
        img = img.convert(mode)
    img.save(path, **save)
    return path


def write_truncated(path):
    """An image cut after half its bytes."""
    write_rgb(path)
    data = open(path, 'rb').read()
    open(path, 'wb').write(data[:len(data) // 2])
    return path


def write_exif_rotated(path):
    """A 40 x 30 JPEG whose EXIF orientation displays it 30 x 40."""
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90: displayed 30 x 40
    return write_rgb(path, exif=exif)


def write_bad_images(folder):
    """Every image-level bad case; returns {file name: expected issue kind}."""
    os.makedirs(folder, exist_ok=True)
    write_rgb(osp.join(folder, 'good.jpg'))
    write_rgb(osp.join(folder, 'grey.png'), mode='L')
    write_rgb(osp.join(folder, 'cmyk.jpg'), mode='CMYK')
    Image.fromarray(np.full((30, 40), 4000, np.uint16)).save(osp.join(folder, 'deep.png'))
    write_exif_rotated(osp.join(folder, 'rotated.jpg'))
    write_truncated(osp.join(folder, 'truncated.jpg'))
    write_truncated(osp.join(folder, 'truncated.png'))
    open(osp.join(folder, 'garbage.jpg'), 'wb').write(os.urandom(500))
    return {'grey.png': 'greyscale_image', 'cmyk.jpg': 'cmyk_image',
            'deep.png': 'high_bit_depth_image', 'rotated.jpg': 'exif_rotated',
            'truncated.jpg': 'truncated_image', 'truncated.png': 'truncated_image',
            'garbage.jpg': 'unreadable_image'}


def write_bad_coco(tmp_path):
    """A COCO json with every annotation-level fault over :func:`write_bad_images`;
    returns ``(ann_file, img_dir, {file name: expected issue kind})``."""
    img_dir = str(tmp_path / 'images')
    expected = write_bad_images(img_dir)
    names = ['good.jpg'] + sorted(expected) + ['missing.jpg']
    images = [dict(id=i + 1, file_name=n, width=40, height=30) for i, n in enumerate(names)]
    by_name = {im['file_name']: im for im in images}
    by_name['rotated.jpg'].update(width=30, height=40)  # annotated as displayed: fine
    write_exif_rotated(osp.join(img_dir, 'rotated_raw_size.jpg'))
    images.append(dict(id=100, file_name='rotated_raw_size.jpg', width=40, height=30))
    write_rgb(osp.join(img_dir, 'empty.jpg'))
    images.append(dict(id=101, file_name='empty.jpg', width=40, height=30))
    images.append(dict(id=101, file_name='dup_id.jpg', width=40, height=30))
    anns = [dict(id=i + 1, image_id=im['id'], category_id=1, bbox=[1, 1, 10, 10])
            for i, im in enumerate(images) if im['file_name'] not in ('empty.jpg', 'dup_id.jpg')]
    good = by_name['good.jpg']['id']
    anns += [dict(id=200, image_id=good, category_id=1, bbox=[5, 5, 0, 8]),
             dict(id=201, image_id=good, category_id=1, bbox=[30, 5, 20, 8]),
             dict(id=202, image_id=good, category_id=7, bbox=[1, 1, 5, 5]),
             dict(id=202, image_id=good, category_id=1, bbox=[2, 2, 5, 5])]
    ann_file = str(tmp_path / 'instances.json')
    with open(ann_file, 'w') as f:
        json.dump(dict(images=images, annotations=anns,
                       categories=[dict(id=1, name='thing'), dict(id=2, name='other')]), f)
    return ann_file, img_dir, expected


def write_bad_voc(tmp_path):
    """A VOC2007 folder with one image id per fault; returns its root."""
    root = tmp_path / 'VOC2007'
    for sub in ('Annotations', 'JPEGImages', 'ImageSets/Main'):
        (root / sub).mkdir(parents=True)

    def xml(img_id, objects, size=(40, 30)):
        objs = ''.join(f'<object><name>{n}</name><difficult>0</difficult><bndbox><xmin>{b[0]}'
                       f'</xmin><ymin>{b[1]}</ymin><xmax>{b[2]}</xmax><ymax>{b[3]}</ymax>'
                       f'</bndbox></object>' for n, b in objects)
        (root / 'Annotations' / f'{img_id}.xml').write_text(
            f'<annotation><filename>{img_id}.jpg</filename><size><width>{size[0]}</width>'
            f'<height>{size[1]}</height><depth>3</depth></size>{objs}</annotation>')

    ids = ['ok', 'badxml', 'unknown', 'flat', 'outside', 'noimage', 'noxml', 'empty', 'ok',
           'truncated']
    for i in set(ids) - {'noimage'}:
        write_rgb(str(root / 'JPEGImages' / f'{i}.jpg'))
    write_truncated(str(root / 'JPEGImages' / 'truncated.jpg'))
    xml('ok', [('cat', (1, 1, 40, 30))])
    (root / 'Annotations' / 'badxml.xml').write_text('<annotation><size>')
    xml('unknown', [('unicorn', (1, 1, 10, 10))])
    xml('flat', [('dog', (10, 5, 10, 20))])
    xml('outside', [('dog', (10, 5, 45, 20))])
    xml('noimage', [('dog', (1, 1, 10, 10))])
    xml('empty', [])
    xml('truncated', [('dog', (1, 1, 10, 10))])
    (root / 'ImageSets' / 'Main' / 'trainval.txt').write_text('\n'.join(ids) + '\n')
    return str(root)
