"""tools/misc/infer.py on the demo_ws detector (tests/conftest.py): boxes drawn
and printed for every image of a folder (upright by EXIF, names kept apart, an
unreadable file skipped and named); a checkpoint that does not fit the
config (mmdet's init_detector loads it non-strictly and draws nothing) and a
score threshold outside [0, 1] are refused (the tool's __main__ in this
process)."""
import os.path as osp

import cv2
import torch
from PIL import Image

from mnext_det.checkpoint import load_checkpoint_file

from ..conftest import DEMO_DET, ROOT
from ..tool_main import run_main

INFER = osp.join(ROOT, 'tools', 'misc', 'infer.py')


def test_infer_draws_every_image_and_refuses_what_does_not_fit(demo_ws, tmp_path):
    images = demo_ws / 'data' / 'shapes' / 'VOC2007' / 'JPEGImages'
    ckpt = str(demo_ws / 'work' / 'epoch_10.pth')
    run = run_main(INFER, DEMO_DET, ckpt, images, '--out-dir', tmp_path / 'vis',
                   '--score-thr', '0.01', cwd=demo_ws)
    assert run.returncode == 0, run.stderr[-3000:]
    lines = [line for line in run.stdout.splitlines() if line.startswith('[')]  # not mmengine's
    names = sorted(p.name for p in images.iterdir())
    assert [line.split(': ')[0] for line in lines] == [
        f'[{i + 1}/{len(names)}] {images / n}' for i, n in enumerate(names)]
    for name in names:
        drawn = cv2.imread(str(tmp_path / 'vis' / (osp.splitext(name)[0] + '.png')))
        assert drawn.shape == cv2.imread(str(images / name)).shape

    state = load_checkpoint_file(ckpt)
    state['state_dict'].pop('backbone.features.0.0.weight')
    other = str(tmp_path / 'other.pth')
    torch.save(state, other)
    run = run_main(INFER, DEMO_DET, other, images, '--out-dir', tmp_path / 'no', cwd=demo_ws)
    assert run.returncode == 2 and not (tmp_path / 'no').exists()
    assert run.stderr.startswith(f"error: {other} does not match the config's model: 1 missing "
                                 'keys (backbone.features.0.0.weight)')
    run = run_main(INFER, DEMO_DET, ckpt, images, '--score-thr', '30', cwd=demo_ws)
    assert (run.returncode, run.stderr) == (2, 'error: --score-thr must be in [0, 1], got '
                                               '30.0\n')


def test_infer_draws_photos_upright_keeps_names_apart_and_names_unreadable_files(demo_ws,
                                                                                  tmp_path):
    """mmdet detects on the EXIF-turned image, so it is drawn turned; x.jpg and
    x.png do not overwrite each other; a broken file does not stop the others."""
    source = sorted((demo_ws / 'data' / 'shapes' / 'VOC2007' / 'JPEGImages').iterdir())[0]
    folder = tmp_path / 'photos'
    folder.mkdir()
    image = Image.open(source)
    image.save(folder / 'x.jpg')
    image.save(folder / 'x.png')
    exif = image.getexif()
    exif[0x0112] = 6  # stored sideways, shown turned 90 degrees clockwise
    image.save(folder / 'sideways.jpg', exif=exif.tobytes())
    (folder / 'broken.jpg').write_bytes(b'not an image')
    run = run_main(INFER, DEMO_DET, str(demo_ws / 'work' / 'epoch_10.pth'), folder,
                   '--out-dir', tmp_path / 'vis', cwd=demo_ws)
    assert run.returncode == 2
    assert run.stderr == (f'error: 1 of 4 files could not be read as images (the others were '
                          f'drawn): {folder / "broken.jpg"}\n')
    assert f'{folder / "broken.jpg"}: not a readable image, skipped' in run.stdout
    assert sorted(p.name for p in (tmp_path / 'vis').iterdir()) == [
        'sideways.png', 'x_jpg.png', 'x_png.png']
    width, height = image.size
    assert cv2.imread(str(tmp_path / 'vis' / 'sideways.png')).shape == (width, height, 3)
