"""Resolving a work dir to the config and checkpoint of the run that wrote it."""
import pytest
import torch

from mnext_det.evaluation.work_dirs import resolve_work_dir


def test_missing_work_dir_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='work dir not found'):
        resolve_work_dir(str(tmp_path / 'missing'))


def test_work_dir_with_a_leftover_config_resolves_to_the_checkpoints_run(tmp_path):
    ckpt = tmp_path / 'epoch_2.pth'
    torch.save(dict(meta=dict(experiment_name='ssdlite_mobilenext_20261201_101500'),
                    state_dict={}), ckpt)
    (tmp_path / 'last_checkpoint').write_text(str(ckpt))
    for name in ('ssdlite_mobilenext.py', 'an_earlier_failed_run.py'):
        (tmp_path / name).write_text('model = dict()\n')
    assert resolve_work_dir(str(tmp_path)) == (str(tmp_path / 'ssdlite_mobilenext.py'),
                                               str(ckpt))
    (tmp_path / 'ssdlite_mobilenext.py').unlink()
    (tmp_path / 'another_leftover.py').write_text('model = dict()\n')
    with pytest.raises(ValueError, match="names none of them.*'ssdlite_mobilenext'"):
        resolve_work_dir(str(tmp_path))


def test_detectors_from_pairs_and_work_dirs_with_their_labels(tmp_path):
    from mnext_det.evaluation.work_dirs import resolve_detectors
    files = []
    for name in ('a.py', 'a.pth', 'b.py', 'b.pth'):
        (tmp_path / name).write_text('model = dict()\n')
        files.append(str(tmp_path / name))
    models, names = resolve_detectors(files)
    assert models == [(files[0], files[1]), (files[2], files[3])] and names == ['a', 'b']
    assert resolve_detectors(files, names=['x', 'y'])[1] == ['x', 'y']
    with pytest.raises(ValueError, match='must be CONFIG CHECKPOINT pairs'):
        resolve_detectors(files[:3])
    with pytest.raises(ValueError, match='--names has 1 labels for 2 detectors'):
        resolve_detectors(files, names=['x'])
    with pytest.raises(ValueError, match=r'at least 3 detector\(s\) needed .*--work-dirs.*got 2'):
        resolve_detectors(files, minimum=3)
    with pytest.raises(FileNotFoundError, match='checkpoint file not found: .*nope.pth'):
        resolve_detectors(files[:3] + [str(tmp_path / 'nope.pth')])


def test_an_unfinished_run_is_refused_naming_its_epoch(tmp_path):
    """compare.py --work-dirs compared a run stopped at epoch 1 of 8 as if
    finished."""
    (tmp_path / 'det.py').write_text('train_cfg = dict(max_epochs=8)\n')
    for epoch in (1, 8):
        ckpt = tmp_path / f'epoch_{epoch}.pth'
        torch.save(dict(meta=dict(epoch=epoch, iter=epoch * 10,
                                  experiment_name='det_20261201_101500'), state_dict={}), ckpt)
        (tmp_path / 'last_checkpoint').write_text(str(ckpt))
        if epoch == 1:
            with pytest.raises(ValueError, match=r'last checkpoint .*epoch_1\.pth is at epoch 1 '
                               r'of 8: the run did not finish \(--resume it\)'):
                resolve_work_dir(str(tmp_path))
    assert resolve_work_dir(str(tmp_path)) == (str(tmp_path / 'det.py'), str(ckpt))


def test_repeated_labels_are_refused(tmp_path):
    """Two seeds' work dirs of one config were two rows of the same name."""
    from mnext_det.evaluation.work_dirs import resolve_detectors
    files = []
    for name in ('s0/det.py', 's0/a.pth', 's1/det.py', 's1/a.pth'):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text('model = dict()\n')
        files.append(str(tmp_path / name))
    with pytest.raises(ValueError, match=r'the config names repeat det: .*give one label per '
                       r'detector with --names'):
        resolve_detectors(files)
    with pytest.raises(ValueError, match='--names repeats x'):
        resolve_detectors(files, names=['x', 'x'])
    assert resolve_detectors(files, names=['seed0', 'seed1'])[1] == ['seed0', 'seed1']
