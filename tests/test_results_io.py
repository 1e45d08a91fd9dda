"""Results pickles are rebuilt as data only, including the tensor storages
that plain pickle stores as ``torch.save`` bytes."""
import io
import pickle

import numpy as np
import pytest
import torch
from mmengine.fileio import dump, load

import mnext_det  # noqa: F401  (routes mmengine's *.pkl loader)
from mnext_det.results_io import UnsafePickleError, load_pickle

from .fault_injection import CodeRunningPayload


class _StorageBytes:
    """Pickles as torch.storage._load_from_bytes(<bytes>), as a storage does."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __reduce__(self):
        return (torch.storage._load_from_bytes, (self.data, ))


def test_results_round_trip_through_mmengine(tmp_path):
    results = [dict(img_id=3, ori_shape=(320, 320), scale_factor=(0.5, 0.5),
                    pred_instances=dict(bboxes=torch.rand(4, 4), scores=torch.rand(4),
                                        labels=torch.tensor([0, 5, 2, 2])),
                    extra=np.arange(6, dtype=np.float32).reshape(2, 3))]
    dump(results, str(tmp_path / 'r.pkl'))
    back = load(str(tmp_path / 'r.pkl'))
    assert back[0]['img_id'] == 3 and back[0]['ori_shape'] == (320, 320)
    for key in ('bboxes', 'scores', 'labels'):
        assert torch.equal(back[0]['pred_instances'][key], results[0]['pred_instances'][key])
    np.testing.assert_array_equal(back[0]['extra'], results[0]['extra'])


def test_code_in_a_results_pickle_is_refused(tmp_path):
    marker = tmp_path / 'ran'
    path = tmp_path / 'evil.pkl'
    path.write_bytes(pickle.dumps([dict(pred_instances=CodeRunningPayload(str(marker)))], protocol=2))
    with pytest.raises(UnsafePickleError, match='posix.system is not allowed'):
        load(str(path))
    assert not marker.exists()


def test_code_inside_tensor_storage_bytes_is_refused(tmp_path):
    marker = tmp_path / 'ran'
    inner = io.BytesIO()
    torch.save(CodeRunningPayload(str(marker)), inner, _use_new_zipfile_serialization=False)
    data = pickle.dumps(_StorageBytes(inner.getvalue()), protocol=2)
    with pytest.raises(pickle.UnpicklingError):
        load_pickle(io.BytesIO(data))
    assert not marker.exists()
