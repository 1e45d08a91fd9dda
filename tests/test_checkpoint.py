"""A checkpoint whose pickle would run code is refused by every loading path
of the toolkit; the documented opt-in loads trusted legacy files; a truncated
or corrupt checkpoint is named."""
import io
import os
import os.path as osp
import random
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import load_checkpoint as mmengine_load_checkpoint

from mnext_det import ImageClassifier, create_model
from mnext_det.checkpoint import UnsafeCheckpointError, load_checkpoint_file

from .fault_injection import ROOT, CodeRunningPayload, train_env, write_classification_run
from .official_mnext import OfficialMobileNeXt
from .tool_main import run_main

CONVERTERS = osp.join(ROOT, 'tools', 'model_converters')


class _Getattr:

    def __init__(self, obj, name: str) -> None:
        self.obj, self.name = obj, name

    def __reduce__(self):
        return (getattr, (self.obj, self.name))


@pytest.fixture
def evil(tmp_path):
    """A real classifier checkpoint (mobilenext_035, 2 classes) plus a payload."""
    marker = str(tmp_path / 'pwned')
    model = create_model('mobilenext_035', num_classes=2)
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict(epoch=1, iter=4),
                    payload=CodeRunningPayload(marker)), path)
    yield path, marker
    assert not osp.exists(marker) or os.environ.get('MNEXT_TRUSTED_CHECKPOINTS') == '1'


def _refused(exc_info, path: str) -> None:
    msg = str(exc_info.value)
    assert f'refused to load {path}' in msg
    assert 'posix.system' in msg or 'os.system' in msg  # names the refused global
    assert 'MNEXT_TRUSTED_CHECKPOINTS=1' in msg


def test_library_paths_refuse(evil):
    path, marker = evil
    with pytest.raises(UnsafeCheckpointError) as e:
        load_checkpoint_file(path)
    _refused(e, path)
    with pytest.raises(UnsafeCheckpointError) as e:
        create_model('mobilenext_035', num_classes=2, checkpoint=path)
    _refused(e, path)
    # mmengine's loader (load_from, Runner.load_checkpoint, tools/test.py)
    with pytest.raises(UnsafeCheckpointError):
        mmengine_load_checkpoint(create_model('mobilenext_035', num_classes=2), path)
    assert not osp.exists(marker)


@pytest.mark.parametrize('prefix', [None, 'backbone.'])
def test_init_cfg_pretrained_refuses(evil, prefix):
    path, marker = evil
    init_cfg = dict(type='Pretrained', checkpoint=path)
    if prefix is None:
        model = ImageClassifier(backbone=dict(type='MobileNeXt', widen_factor=0.35),
                                num_classes=2, init_cfg=init_cfg)
    else:
        model = ImageClassifier(backbone=dict(type='MobileNeXt', widen_factor=0.35,
                                              init_cfg=dict(init_cfg, prefix=prefix)),
                                num_classes=2)
    with pytest.raises(UnsafeCheckpointError) as e:
        model.init_weights()
    _refused(e, path)
    assert not osp.exists(marker)


def _cli_cases(cfg: str, evil: str, out: str):
    train = osp.join(ROOT, 'tools', 'train.py')
    cases = {
        'train --resume': [train, cfg, '--resume', evil],
        'train load_from': [train, cfg, '--cfg-options', f'load_from={evil}'],
        'test': [osp.join(ROOT, 'tools', 'test.py'), cfg, evil],
        'extract_backbone': [osp.join(CONVERTERS, 'extract_backbone.py'), evil, out],
        'convert_official_ckpt': [osp.join(CONVERTERS, 'convert_official_ckpt.py'), evil, out,
                                  '--arch', 'mobilenext_035'],
        'deploy/export': [osp.join(ROOT, 'tools', 'deploy', 'export.py'), 'mobilenext_035',
                          '--checkpoint', evil, '--out', osp.splitext(out)[0] + '.onnx'],
    }
    return {k: v for k, v in cases.items() if osp.isfile(v[0])}


def test_command_line_tools_refuse(evil, tmp_path, monkeypatch):
    """``train --resume`` starts the tool as a user does; the other tools run
    their ``__main__`` in this process (tests/tool_main.py): the refusal ends
    them before any work."""
    path, marker = evil
    cfg = write_classification_run(tmp_path, max_epochs=1, extra='''
test_dataloader = dict(batch_size=2, num_workers=0, sampler=dict(type='DefaultSampler',
    shuffle=False), collate_fn=dict(type='default_collate'), dataset=train_dataloader['dataset'])
test_evaluator = dict(type='TopKAccuracy', topk=(1, ))
test_cfg = dict()
custom_imports['imports'].append('mnext_det.evaluation')
''')
    cases = _cli_cases(cfg, path, str(tmp_path / 'out.pth'))
    assert {'train --resume', 'train load_from', 'test'} <= set(cases)
    monkeypatch.delenv('MNEXT_TRUSTED_CHECKPOINTS', raising=False)
    for name, argv in cases.items():
        if name.startswith(('train', 'test')):
            argv = argv + ['--work-dir', str(tmp_path / 'w')]
        if name == 'train --resume':
            proc = subprocess.run([sys.executable] + argv, capture_output=True, text=True,
                                  timeout=180, cwd=ROOT, env=train_env())
        else:
            proc = run_main(*argv, cwd=ROOT)
        assert proc.returncode == 2, (name, proc.stderr[-2000:])
        assert f'\nerror: refused to load {path}' in '\n' + proc.stderr, (
            name, proc.stderr[-2000:])
        assert not osp.exists(marker), name
        assert not osp.exists(tmp_path / 'out.pth') and not osp.exists(tmp_path / 'out.onnx'), \
            name


def _run_tool(argv, marker, evil):
    proc = subprocess.run([sys.executable] + argv, capture_output=True, text=True, timeout=300,
                          cwd=ROOT, env=train_env())
    assert proc.returncode == 2, (argv, proc.stderr[-2000:])
    assert f'\nerror: refused to load {evil}' in '\n' + proc.stderr, proc.stderr[-2000:]
    assert not osp.exists(marker)


@pytest.mark.slow
def test_detection_tools_refuse(evil, tmp_path):
    """tools/analysis_tools/compare.py and tools/misc/infer.py on a real SSDLite config and data."""
    pytest.importorskip('mmdet')
    from mnext_det.datasets.synthetic import SyntheticConfig, generate_shapes_dataset
    path, marker = evil
    data = str(tmp_path / 'shapes') + '/'
    generate_shapes_dataset(data, SyntheticConfig(num_train=2, num_val=2, num_test=0, image_size=160,
                                                  max_objects=2), progress=False)
    config = osp.join(ROOT, 'configs', 'demo', 'ssdlite_mobilenext-050_1xb8-10e_shapes-160.py')
    compare = osp.join(ROOT, 'tools', 'analysis_tools', 'compare.py')
    _run_tool([compare, config, path, config, path, '--names', 'a', 'b',
               '--out-dir', str(tmp_path / 'cmp'),
               '--cfg-options', f'test_dataloader.dataset.data_root={data}',
               f'test_evaluator.ann_file={data}annotations/instances_val.json'], marker, path)
    image = osp.join(data, 'VOC2007', 'JPEGImages', sorted(os.listdir(
        osp.join(data, 'VOC2007', 'JPEGImages')))[0])
    _run_tool([osp.join(ROOT, 'tools', 'misc', 'infer.py'), config, path, image, '--out-dir',
               str(tmp_path / 'infer')], marker, path)


def test_no_second_loader_in_package_or_tools():
    """Every reader of checkpoints goes through mnext_det.checkpoint."""
    pattern = re.compile(r'torch\.load\(|pickle\.loads?\(|weights_only\s*=\s*False')
    offenders = []
    for top in ('mnext_det', 'tools'):
        for folder, _, files in os.walk(osp.join(ROOT, top)):
            for f in files:
                path = osp.join(folder, f)
                if f.endswith('.py') and path != osp.join(ROOT, 'mnext_det', 'checkpoint.py'):
                    text = open(path, encoding='utf-8').read()
                    offenders += [f'{path}: {m.group(0)}' for m in pattern.finditer(text)]
    assert not offenders


def test_trusted_opt_in_is_explicit(evil, monkeypatch):
    path, marker = evil
    ckpt = load_checkpoint_file(path, trusted=True)
    assert 'state_dict' in ckpt and osp.exists(marker)  # the payload did run
    os.remove(marker)
    monkeypatch.setenv('MNEXT_TRUSTED_CHECKPOINTS', '1')
    create_model('mobilenext_035', num_classes=2, checkpoint=path)
    assert osp.exists(marker)
    os.remove(marker)
    monkeypatch.setenv('MNEXT_TRUSTED_CHECKPOINTS', '0')
    with pytest.raises(UnsafeCheckpointError):
        load_checkpoint_file(path)


@pytest.mark.parametrize('obj, name', [(HistoryBuffer, 'update'), (HistoryBuffer, '__init__'),
                                       (np.ndarray, 'tofile')])
def test_getattr_only_for_history_buffer_statistics(tmp_path, obj, name):
    path = str(tmp_path / 'getattr.pth')
    torch.save(dict(x=_Getattr(obj, name)), path)
    with pytest.raises(UnsafeCheckpointError, match='refused to load'):
        load_checkpoint_file(path)


def test_history_buffer_statistics_load(tmp_path):
    buf = HistoryBuffer()
    buf.update(2.0)
    buf.update(4.0)
    path = str(tmp_path / 'hub.pth')
    torch.save(dict(buf=buf, eta=np.float64(1.5)), path)
    loaded = load_checkpoint_file(path)
    assert loaded['buf'].mean() == 3.0 and loaded['buf'].current() == 4.0


class _Evil:

    def __reduce__(self):
        return (os.system, ('echo pwned > pwned.txt', ))


def test_malicious_pickle_refused(tmp_cwd):
    path = str(tmp_cwd / 'evil.pth')
    torch.save(dict(state_dict=OfficialMobileNeXt().state_dict(), payload=_Evil()), path)
    with pytest.raises(UnsafeCheckpointError, match='evil.pth.*MNEXT_TRUSTED_CHECKPOINTS'):
        create_model('mobilenext_100', checkpoint=path)
    with pytest.raises(UnsafeCheckpointError):
        load_checkpoint_file(path)
    assert not (tmp_cwd / 'pwned.txt').exists()


def test_truncated_checkpoint_is_named(tmp_path):
    from mnext_det.checkpoint import CorruptCheckpointError
    path = tmp_path / 'half.pth'
    torch.save(create_model('mobilenext_035').state_dict(), path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(CorruptCheckpointError, match=f'{path}: not a readable checkpoint'):
        create_model('mobilenext_035', checkpoint=str(path))
    path.write_bytes(b'not a checkpoint at all')
    with pytest.raises(ValueError, match='truncated or corrupt'):
        create_model('mobilenext_035', checkpoint=str(path))
    path.write_bytes(b'hello')  # 'h': a memo lookup, KeyError inside torch's unpickler
    with pytest.raises(CorruptCheckpointError, match=f'{path}: not a readable checkpoint'):
        load_checkpoint_file(str(path))


def test_a_folder_given_for_a_checkpoint_names_its_latest(tmp_path):
    """A work dir passed as the checkpoint (``load_from=work_dirs/x``): the
    checkpoint its ``last_checkpoint`` names, else its newest ``.pth``."""
    for name in ('epoch_1.pth', 'epoch_2.pth'):
        (tmp_path / name).write_bytes(b'x')
    os.utime(tmp_path / 'epoch_1.pth', (0, 0))
    with pytest.raises(FileNotFoundError, match=f'^checkpoint file not found: {tmp_path} is a '
                       f'folder; its latest checkpoint is {tmp_path}/epoch_2.pth$'):
        load_checkpoint_file(str(tmp_path))
    (tmp_path / 'last_checkpoint').write_text(f'{tmp_path}/epoch_1.pth')
    with pytest.raises(FileNotFoundError, match=f'its latest checkpoint is {tmp_path}/epoch_1'):
        create_model('mobilenext_035', checkpoint=str(tmp_path))
    with pytest.raises(FileNotFoundError, match=f'^checkpoint file not found: {tmp_path}/a$'):
        load_checkpoint_file(str(tmp_path / 'a'))
    (tmp_path / 'a').mkdir()
    with pytest.raises(FileNotFoundError, match=f'^checkpoint file not found: {tmp_path}/a is a '
                       'folder$'):
        load_checkpoint_file(str(tmp_path / 'a'))


@pytest.mark.parametrize('legacy', [False, True])
def test_every_corruption_is_named_as_one(tmp_path, legacy):
    """Bytes overwritten or cut off in both of torch's formats: torch.load
    raises ten kinds of error (KeyError, IndexError, struct.error, ...);
    each is a CorruptCheckpointError naming the file, or refused as unsafe."""
    from mnext_det.checkpoint import CorruptCheckpointError
    buffer = io.BytesIO()
    torch.save(dict(state_dict=dict(w=torch.ones(3)), meta=dict(epoch=1)), buffer,
               _use_new_zipfile_serialization=not legacy)
    data, rng = buffer.getvalue(), random.Random(0)
    path = tmp_path / 'bad.pth'
    for _ in range(300):
        bad = bytearray(data)
        if rng.random() < 0.5:
            bad = bad[:rng.randrange(1, len(bad))]
        else:
            for _ in range(rng.randint(1, 5)):
                bad[rng.randrange(len(bad))] = rng.randrange(256)
        path.write_bytes(bytes(bad))
        try:
            with warnings.catch_warnings():  # torch's note on an unknown pickle protocol
                warnings.simplefilter('ignore', UserWarning)
                load_checkpoint_file(str(path))
        except CorruptCheckpointError as e:
            assert str(e).startswith(f'{path}: not a readable checkpoint')
        except UnsafeCheckpointError:
            pass


def test_training_progress_reads_epochs_else_iterations():
    from mnext_det.checkpoint import training_progress
    meta = dict(epoch=3, iter=30)
    assert training_progress(meta, dict(max_epochs=8)) == ('epoch', 3, 8)
    assert training_progress(meta, dict(type='IterBasedTrainLoop', max_iters=40)) == \
        ('iter', 30, 40)
    assert training_progress({}, dict(max_epochs=8)) is None
    assert training_progress(meta, {}) is None


def test_a_checkpoint_that_does_not_fit_says_what_it_looks_like(tmp_path):
    """A backbone-only file given to tools/test.py was told to go through
    convert_official_ckpt.py; create_model(checkpoint=) of one said only
    '2 missing keys (classifier.1.*)'."""
    from mnext_det.checkpoint import CheckpointMismatchError, check_checkpoint_fits
    model = create_model('mobilenext_035', num_classes=4)
    backbone = str(tmp_path / 'backbone.pth')
    torch.save(dict(state_dict=model.backbone.state_dict()), backbone)
    with pytest.raises(CheckpointMismatchError, match=r'It holds a backbone alone .*'
                       r'create_model\(\.\.\., features_only=True\)\), not a whole model\.$'):
        check_checkpoint_fits(model, backbone)
    with pytest.raises(CheckpointMismatchError, match=r'2 missing keys \(classifier.1.bias, '
                       r'classifier.1.weight\)\. It holds no classifier .*features_only=True\) '
                       'loads it'):
        create_model('mobilenext_035', num_classes=4, checkpoint=backbone)
    authors = str(tmp_path / 'authors.pth')
    torch.save({k.replace('backbone.', '', 1): v for k, v in model.state_dict().items()},
               authors)
    with pytest.raises(CheckpointMismatchError, match="laid out as the authors' classifier: for "
                       'a detector run tools/model_converters/convert_official_ckpt.py first'):
        check_checkpoint_fits(model, authors)
    other = str(tmp_path / 'other_width.pth')
    torch.save(dict(state_dict=create_model('mobilenext_050', num_classes=4).state_dict()),
               other)
    with pytest.raises(CheckpointMismatchError, match=r'shape mismatches \(.*\)$'):
        check_checkpoint_fits(model, other)  # this project's layout: no hint to give
