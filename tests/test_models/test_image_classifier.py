"""ImageClassifier pretraining on mmengine's Runner with the real configs on a
small generated ImageFolder: learning, checkpoint + resume, evaluation (ours and
an official-format checkpoint through ``create_model``)."""
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mnext_det import create_model
from mnext_det.checkpoint import extract_state_dict, load_checkpoint_file

from ..conftest import _runner, make_image_folder, write_config


def test_short_run_loss_falls_and_top1_beats_chance(tmp_path):
    data = make_image_folder(str(tmp_path / 'data'), n_train=40, n_val=10, size=72)
    config = write_config(tmp_path / 'cfg.py', data, size=64, batch=16, lr=0.02,
                          max_epochs=8, cosine_end=8)
    runner = _runner(config, tmp_path / 'work')
    runner.train()
    losses = runner.message_hub.get_scalar('train/loss').data[0]
    per_epoch = len(losses) // 8
    assert per_epoch == 120 // 16
    first, last = losses[:per_epoch].mean(), losses[-per_epoch:].mean()
    # over data and init seeds 0-9: last / first 0.33-0.62, top-1 93-100 %
    assert last < 0.8 * first, (first, last)
    top1 = runner.message_hub.get_scalar('val/accuracy/top1').current()
    assert top1 > 60.0, top1  # chance is 33.3 %


class _RecordIters(Hook):
    def __init__(self):
        self.iters, self.epochs, self.params = [], [], None

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if self.params is None:
            self.params = {k: v.clone() for k, v in runner.model.state_dict().items()}
        self.iters.append(runner.iter)
        self.epochs.append(runner.epoch)


def test_resume_continues_at_epoch_and_iteration(small_run):
    tmp, config, first = small_run
    assert (first.epoch, first.iter) == (2, 6)
    ckpt = str(tmp / 'first' / 'epoch_2.pth')
    resumed = _runner(config, tmp / 'resumed', train_cfg=dict(max_epochs=3),
                      resume=True, load_from=ckpt)
    record = _RecordIters()
    resumed.register_hook(record)
    resumed.train()
    assert record.epochs == [2, 2, 2] and record.iters == [6, 7, 8]
    assert (resumed.epoch, resumed.iter) == (3, 9)
    saved = extract_state_dict(load_checkpoint_file(ckpt))
    for k, v in saved.items():
        torch.testing.assert_close(record.params[k], v, msg=k)
    # the lr schedule continues where it stopped: same final lr as a straight 3-epoch run
    straight = _runner(config, tmp / 'straight', train_cfg=dict(max_epochs=3))
    straight.train()
    assert resumed.optim_wrapper.get_lr()['lr'] == pytest.approx(
        straight.optim_wrapper.get_lr()['lr'], rel=1e-9)


def _test_metrics(config: str, work_dir, checkpoint: str = None, model=None) -> dict:
    cfg = Config.fromfile(config)
    if model is None:
        runner = _runner(config, work_dir, load_from=checkpoint)
    else:
        runner = Runner(model=model, work_dir=str(work_dir),
                        test_dataloader=cfg.test_dataloader, test_evaluator=cfg.test_evaluator,
                        test_cfg=cfg.test_cfg, default_scope=cfg.default_scope)
    return runner.test()


def test_evaluate_checkpoint_and_official_format(small_run):
    tmp, config, first = small_run
    ckpt = str(tmp / 'first' / 'epoch_2.pth')
    ours = _test_metrics(config, tmp / 'eval', checkpoint=ckpt)
    assert set(ours) == {'accuracy/top1', 'accuracy/top5'}
    assert ours['accuracy/top5'] == 100.0  # 3 classes
    # the same weights in the authors' timm format, through create_model
    state = extract_state_dict(load_checkpoint_file(ckpt))
    official = dict(epoch=2, arch='mobilenext',
                    state_dict={k[len('backbone.'):] if k.startswith('backbone.') else k: v
                                for k, v in state.items()})
    path = str(tmp / 'official.pth.tar')
    torch.save(official, path)
    model = create_model('mobilenext_035', num_classes=3, checkpoint=path)
    assert _test_metrics(config, tmp / 'eval_official', model=model) == ours


def test_timm_model_attributes():
    """get_classifier, set_grad_checkpointing and pretrained_cfg, as timm's
    models have them: the names resolve to the modules, checkpointing
    changes no gradient, and the preprocessing is the data preprocessor's."""
    from mmdet.models.backbones import MobileNetV2  # noqa: F401  (registers it)
    from mnext_det import ImageClassifier
    torch.manual_seed(0)
    model = create_model('mobilenext_035', num_classes=4, in_chans=2)
    assert model.get_classifier() is model.classifier[1]
    model.reset_classifier(5)
    assert model.get_classifier().out_features == 5
    cfg = model.pretrained_cfg
    assert model.get_submodule(cfg['first_conv']) is model.backbone.features[0][0]
    assert model.get_submodule(cfg['classifier']) is model.get_classifier()
    assert cfg['input_size'] == (2, 224, 224) and cfg['num_classes'] == 5
    assert (cfg['crop_pct'], cfg['interpolation']) == (0.875, 'bicubic')
    torch.testing.assert_close(cfg['mean'], (0.485, 0.456, 0.406))
    torch.testing.assert_close(cfg['std'], (0.229, 0.224, 0.225))
    other = ImageClassifier(dict(type='mmdet.MobileNetV2', out_indices=(7, )), in_channels=1280,
                            data_preprocessor=dict(type='ImgDataPreprocessor', mean=[127.5] * 3,
                                                   std=[127.5] * 3))
    assert other.pretrained_cfg['mean'] == (0.5, 0.5, 0.5)
    assert other.pretrained_cfg['first_conv'] == 'backbone.conv1.conv'

    x = torch.randn(2, 2, 64, 64)
    model.train()
    grads = []
    for enable in (False, True):
        model.set_grad_checkpointing(enable)
        assert all(m.with_cp == enable for m in model.modules() if hasattr(m, 'with_cp'))
        model.zero_grad()
        torch.manual_seed(1)  # the same dropout mask both times
        model(x).sum().backward()
        grads.append(model.backbone.features[0][0].weight.grad.clone())
    torch.testing.assert_close(grads[0], grads[1])
    no_conv = ImageClassifier(torch.nn.Linear(2, 2), in_channels=2)
    with pytest.raises(ValueError, match='Linear has no blocks with with_cp'):
        no_conv.set_grad_checkpointing()
    assert 'first_conv' not in no_conv.pretrained_cfg and hasattr(no_conv, 'pretrained_cfg')
