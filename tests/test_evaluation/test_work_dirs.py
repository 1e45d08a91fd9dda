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
