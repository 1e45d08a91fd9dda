"""ClassListCheckHook: test data whose classes come in another order than the
checkpoint's is refused."""
import pytest

from ..conftest import _runner


def test_test_data_with_other_class_order_is_refused(small_run):
    tmp, config, _ = small_run
    ckpt = str(tmp / 'first' / 'epoch_2.pth')
    with pytest.raises(ValueError, match=r"first difference at index 0: 'red' vs 'blue'"):
        _runner(config, tmp / 'eval_reordered', load_from=ckpt,
                test_dataloader=dict(dataset=dict(classes=['red', 'green', 'blue']))).test()


def test_a_classifier_with_more_outputs_than_classes_is_refused(small_run):
    """A 5-way head trained and was scored on 3 classes without a word."""
    tmp, config, _ = small_run
    with pytest.raises(ValueError, match=r'^model.num_classes is 5 but train_dataloader.dataset '
                       r'has 3 classes \(blue, green, red\); set model.num_classes=3$'):
        _runner(config, tmp / 'five_outputs', **{'model.num_classes': 5}).train()


def test_voc_per_class_table_names_the_datas_classes(trained, tmp_path, capsys):
    """mmdet's VOCMetric printed the per-class AP of data in a VOC2007/ folder
    under VOC's names (six shape classes as aeroplane, bicycle, ...)."""
    import copy

    from mmengine.runner import Runner
    cfg, work_dir = trained['voc']
    cfg = copy.deepcopy(cfg)
    cfg.load_from = str(work_dir / 'epoch_5.pth')
    cfg.work_dir = str(tmp_path)
    cfg.experiment_name = 'voc_names'
    cfg.visualizer.name = 'voc_names'
    Runner.from_cfg(cfg).test()
    out = capsys.readouterr()
    table = out.out + out.err
    assert '| circle ' in table and '| ring ' in table, table[-3000:]
    assert 'aeroplane' not in table and 'bicycle' not in table
