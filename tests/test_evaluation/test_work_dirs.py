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
