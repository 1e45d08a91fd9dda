"""TFLiteModel names the file it cannot load: a file that is not a TFLite
model, an empty one, and metadata beside it that is not JSON (LiteRT's own
messages name none). Needs only the LiteRT runtime (``pip install .[tflite]``)."""
import re

import pytest

pytest.importorskip('ai_edge_litert')

from mnext_det.deploy.tflite import TFLiteModel, metadata_file  # noqa: E402


@pytest.mark.parametrize('content', [b'not a tflite model\n', b''])
def test_unloadable_file_is_named(tmp_path, content):
    file = tmp_path / 'model.tflite'
    file.write_bytes(content)
    with pytest.raises(ValueError, match=f'^{re.escape(str(file))}: LiteRT cannot load it'):
        TFLiteModel(str(file))


def test_metadata_that_is_not_json_is_named(tmp_path):
    file = tmp_path / 'model.tflite'
    file.write_bytes(b'not a tflite model\n')
    with open(metadata_file(str(file)), 'w') as f:
        f.write('{not json')
    with pytest.raises(ValueError, match=f'^{re.escape(metadata_file(str(file)))}: not the JSON '
                       'metadata tools/deploy/export.py writes'):
        TFLiteModel(str(file))
