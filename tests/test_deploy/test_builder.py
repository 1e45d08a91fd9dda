"""build_model refuses a checkpoint that does not fit the config's model."""
import os.path as osp

import pytest
import torch

from mnext_det import create_model

from ..conftest import ROOT

DET_CONFIG = osp.join(ROOT, 'configs', 'ssdlite',
                      'ssdlite_mobilenext-100-scratch_8xb24-600e_coco.py')


def test_export_refuses_classifier_checkpoint_for_detector_config(tmp_path):
    pytest.importorskip('mmdet')
    from mnext_det.deploy import build_model
    ckpt = str(tmp_path / 'cls.pth')
    torch.save({'state_dict': create_model('mobilenext_100').state_dict()}, ckpt)
    with pytest.raises(ValueError, match='does not match config') as err:
        build_model(DET_CONFIG, ckpt)
    assert ckpt in str(err.value) and 'missing keys' in str(err.value)


def test_a_model_name_takes_its_class_count_from_the_checkpoint(tmp_path):
    """``export.py mobilenext_050 --checkpoint`` of a 3-class pretraining
    failed on classifier.1.bias (3,) vs (1000,), with no flag to set it."""
    from mnext_det.deploy import build_model
    ckpt = str(tmp_path / 'three.pth')
    trained = create_model('mobilenext_050', num_classes=3).eval()
    torch.save({'state_dict': trained.state_dict()}, ckpt)
    module, cfg = build_model('mobilenext_050', ckpt)
    assert cfg is None and module.num_classes == 3
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(module.eval()(x), trained(x), rtol=0, atol=0)
    with pytest.raises(ValueError, match=r'classifier.1.weight: checkpoint \(3, '):
        build_model('mobilenext_050', ckpt, num_classes=5)  # an explicit count is kept


def test_classifier_from_config_exports_its_test_resize_and_trained_classes(small_run):
    """A classifier config's export took ImageNet's 224 px, resize 256 and
    crop, and no class names: ONNX Runtime preprocessed otherwise than
    tools/test.py and printed class indices."""
    import glob

    import numpy as np
    from mmengine.registry import TRANSFORMS

    from mnext_det.deploy import build_model, prepare_export
    from mnext_det.deploy.onnxruntime_model import preprocess, read_image
    tmp, config, _ = small_run
    ckpt = str(tmp / 'first' / 'epoch_2.pth')
    module, cfg = build_model(config, ckpt)
    _, _, meta = prepare_export(module, cfg, checkpoint=ckpt)
    assert meta['input_size'] == [32, 32] and meta['resize_size'] == 32
    assert meta['interpolation'] == 'bicubic' and meta['classes'] == ['blue', 'green', 'red']
    path = sorted(glob.glob(str(tmp / 'data' / 'val' / '*' / '*.png')))[0]
    x, _ = preprocess(read_image(path), meta)
    loaded = {'img_path': path}
    for step in cfg.test_dataloader.dataset.pipeline[:-1]:  # all but the packing
        loaded = TRANSFORMS.build(step)(loaded)
    mean, std = (np.float32(meta[k]).reshape(3, 1, 1) for k in ('mean', 'std'))
    expected = (loaded['img'].numpy().astype(np.float32) - mean) / std
    # PIL's bicubic against torchvision's on a tensor: within a grey level or two
    assert np.abs(x[0] - expected).mean() * std.mean() < 2.0
