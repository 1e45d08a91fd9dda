"""visualization.detection_grid on the demo_ws detector (tests/conftest.py):
images read as mmdet reads them, so a photo stored sideways is drawn upright."""
import json

from PIL import Image

from mnext_det.datasets.synthetic import SHAPE_CLASSES
from mnext_det.visualization.detection_grid import detection_grid

from ..conftest import DEMO_DET


def test_grid_draws_a_sideways_photo_upright_as_mmdet_detects_it(demo_ws, tmp_path):
    source = sorted((demo_ws / 'data' / 'shapes' / 'VOC2007' / 'JPEGImages').iterdir())[0]
    image = Image.open(source).resize((120, 80))
    exif = image.getexif()
    exif[0x0112] = 6  # stored 120 x 80, shown turned 90 degrees clockwise: 80 x 120
    image.save(tmp_path / 'sideways.jpg', exif=exif.tobytes())
    ann = tmp_path / 'ann.json'
    ann.write_text(json.dumps(dict(
        images=[dict(id=1, file_name='sideways.jpg', width=80, height=120)],
        annotations=[dict(id=1, image_id=1, category_id=1, bbox=[10, 20, 30, 40], area=1200,
                          iscrowd=0)],
        categories=[dict(id=i + 1, name=n) for i, n in enumerate(SHAPE_CLASSES)])))
    out = tmp_path / 'grid.png'
    detection_grid([('MobileNeXt', DEMO_DET, str(demo_ws / 'work' / 'epoch_10.pth'))],
                   str(ann), str(tmp_path), SHAPE_CLASSES, str(out), num_images=1)
    assert Image.open(out).size == (80, 2 * 120)  # ground truth row, detector row
