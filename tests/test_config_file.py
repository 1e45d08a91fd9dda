"""config_file.read_config: a missing file, another kind of file and a config
that does not parse are named; tools that take a CONFIG say so in one line."""
import os.path as osp

import pytest

from mnext_det.config_file import read_config

from .conftest import ROOT
from .tool_main import run_main


def test_reads_a_config_with_its_base():
    cfg = read_config(osp.join(ROOT, 'configs', 'demo',
                               'ssdlite_mobilenext-050_1xb8-8e_shapes-160.py'))
    assert cfg.train_cfg.max_epochs == 8 and cfg.model.backbone.type.endswith('MobileNeXt')


@pytest.mark.parametrize('name, text, message', [
    ('model.onnx', 'onnx bytes', r'model\.onnx: not a config file \(mmengine reads \.py, '
                                 r'\.json, \.yml, \.yaml\)'),
    ('broken.py', 'model = dict(\n', r"broken\.py \(or a _base_ file it names\) does not parse: "
                                     r"'\(' was never closed, line 1"),
    ('broken.json', '{"model": ', r'broken\.json \(or a _base_ file it names\) does not parse: '
                                  r'Expecting value'),
])
def test_names_a_file_that_is_not_a_config(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_config(str(path))
    with pytest.raises(FileNotFoundError, match=r'config file not found: .*missing\.py'):
        read_config(str(tmp_path / 'missing.py'))


def test_evaluate_with_its_arguments_swapped_names_the_model_file(tmp_path):
    """tools/deploy/evaluate.py CONFIG MODEL given MODEL CONFIG: mmengine's
    'Only py/yml/yaml/json type are supported now!' traceback before."""
    model = tmp_path / 'det.onnx'
    model.write_bytes(b'onnx')
    config = osp.join(ROOT, 'configs', 'demo', 'ssdlite_mobilenext-050_1xb8-8e_shapes-160.py')
    run = run_main(osp.join(ROOT, 'tools', 'deploy', 'evaluate.py'), model, config, cwd=ROOT)
    assert run.returncode == 2
    assert run.stderr == f'error: {model}: not a config file (mmengine reads .py, .json, .yml, ' \
        '.yaml)\n'
