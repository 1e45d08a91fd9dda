"""tools/analysis_tools/benchmark_detectors.py and profile_detectors.py from the
command line, on the demo configs at the smallest settings; the refusals run
the tools' ``__main__`` in this process (tests/tool_main.py)."""
import os.path as osp
import re

import pytest
import torch

from ..conftest import ROOT, run
from ..tool_main import run_main

pytest.importorskip('mmdet')
DEMO = [osp.join(ROOT, 'configs', 'demo', f'ssdlite_{b}-050_1xb8-10e_shapes-160.py')
        for b in ('mobilenetv2', 'mobilenext')]
TOOLS = osp.join(ROOT, 'tools', 'analysis_tools')


def test_benchmark_detectors_interleaves_variants_and_prints_ratios():
    out = run(osp.join(TOOLS, 'benchmark_detectors.py'), *DEMO, '--memory-format', 'both',
              '--torch-relu6', '--batch-size', '2', '--train-iters', '2', '--infer-runs', '1',
              '--warmup', '1', '--threads', '1', cwd=ROOT).stdout
    table, pairs = out.split('Rows that differ in one thing')
    rows = [ln for ln in table.splitlines() if ln.startswith('| ssdlite_')]
    assert [r.split(' | ')[0] for r in rows] == [
        f'| ssdlite_{backbone}-050_1xb8-10e_shapes-160{fmt}{relu}'
        for backbone in ('mobilenetv2', 'mobilenext') for fmt in ('', ' (channels_last)')
        for relu in ('', ' (torch_relu6)')]
    assert '(x1.00)' in rows[0] and 'ratios are to ssdlite_mobilenetv2-050' in out
    # train img/s: median (p10-p90) (xratio)
    median, low, high = map(float, re.search(r'\| ([\d.]+) \(([\d.]+)-([\d.]+)\) \(x',
                                             rows[7]).groups())
    assert 0 < low <= median <= high
    # each row against the rows one option or the config away: 2 configs x 2 formats x 2
    # activations, 3 neighbours each, every pair once
    pairs = [ln for ln in pairs.splitlines() if ln.startswith('| ssdlite_')]
    assert len(pairs) == 8 * 3 // 2
    assert ('| ssdlite_mobilenext-050_1xb8-10e_shapes-160 (torch_relu6) | '
            'ssdlite_mobilenext-050_1xb8-10e_shapes-160 | x') in '\n'.join(pairs)


def test_profile_detectors_charges_every_phase_and_counts_activation_traffic():
    out = run(osp.join(TOOLS, 'profile_detectors.py'), *DEMO, '--batch-size', '2', '--iters',
              '1', '--warmup', '1', '--phase-iters', '2', cwd=ROOT).stdout
    lines = {tuple(c.strip() for c in ln.strip('|').split('|')[:2]): ln
             for ln in out.split('Memory speed')[0].splitlines() if ln.startswith('| ')}
    for phase in ('forward', 'backward'):
        for kind in ('depthwise conv 3x3', 'pointwise conv 1x1', 'batch norm', 'activation'):
            assert (phase, kind) in lines, (phase, kind, out)
    assert ('optimizer', 'elementwise') in lines
    total = lines[('all', 'total')].split('|')
    assert float(total[3]) > 0 and float(total[4]) > 0 and '(+100%)' in total[5]
    speed = out.split('Memory speed of the training step')[1].split('Training step by phase')[0]
    add_gbs = float(re.search(r"an add's ([\d.]+) GB/s", speed).group(1))
    assert add_gbs > 0
    rows = {tuple(c.strip() for c in ln.strip('|').split('|')[:2]): ln.strip('|').split('|')[2:]
            for ln in speed.splitlines() if ln.startswith('| ') and 'phase' not in ln}
    for phase in ('forward', 'backward'):
        for kind in ('depthwise conv 3x3', 'batch norm', 'activation'):
            for mb, ms, gbs in zip(*[iter(rows[(phase, kind)])] * 3):  # per detector
                mb, ms, gbs = float(mb), float(ms), float(gbs.split('(')[0])
                assert mb > 0 and ms > 0, (phase, kind, speed)
                # MB and ms are printed to 0.1, GB/s from the unrounded values
                low, high = (mb - 0.05) / (ms + 0.05), (mb + 0.05) / max(ms - 0.05, 1e-9)
                assert low - 0.05 <= gbs <= high + 0.05, (phase, kind, speed)
    phases = out.split('Training step by phase')[1].split('Activation bytes')[0]
    rows = {ln.split('|')[1].strip(): [float(c) for c in ln.strip('|').split('|')[1:3]]
            for ln in phases.splitlines() if ln.startswith('| ') and 'phase' not in ln}
    assert list(rows) == ['data preprocessor', 'backbone + neck', 'head', 'loss', 'backward',
                          'optimizer', 'total']
    for phase, (v2, nxt) in rows.items():
        assert v2 > 0 and nxt > 0, (phase, phases)
    assert rows['total'][0] >= rows['backward'][0] + rows['backbone + neck'][0]
    rate = out.split('Activation bytes per training step')[1].split('Activation traffic')[0]
    wall = {ln.split('|')[1].strip(): ln.strip('|').split('|')[1:] for ln in rate.splitlines()
            if ln.startswith('| ') and 'detector' not in ln}
    assert [float(wall[osp.splitext(osp.basename(c))[0]][1]) for c in DEMO] == rows['total']
    with_bn, folded = out.split('Activation traffic of one batch-1 forward')[1:]
    assert '| batch norm |' in with_bn and '| batch norm |' not in folded
    # the wide depthwise convs: MobileNeXt's sandglass blocks hold two of them
    dw = re.search(r'\| depthwise conv 3x3 \| ([\d.]+) \| ([\d.]+) \(x([\d.]+)\)', folded)
    assert float(dw.group(3)) > 1.2, folded


def test_benchmark_tools_name_a_missing_config(tmp_path):
    for tool in ('benchmark_detectors.py', 'profile_detectors.py'):
        res = run_main(osp.join(TOOLS, tool), str(tmp_path / 'nope.py'), cwd=ROOT)
        assert res.returncode == 2 and res.stderr.startswith('error: config file not found')


def test_benchmark_detectors_names_a_device_it_cannot_use():
    tool = osp.join(TOOLS, 'benchmark_detectors.py')
    res = run_main(tool, *DEMO, '--amp', cwd=ROOT)
    assert res.returncode == 2 and res.stderr.startswith('error: --amp needs --device cuda')
    if not torch.cuda.is_available():
        res = run_main(tool, *DEMO, '--device', 'cuda', cwd=ROOT)
        assert res.returncode == 2 and 'no CUDA device' in res.stderr


def test_fixed_options_hold_on_every_row_and_one_option_adds_rows():
    out = run(osp.join(TOOLS, 'benchmark_detectors.py'), DEMO[1], '--memory-format',
              'channels_last', '--fixed', 'fused_bn', 'depthwise_kernel', '--depthwise-separate',
              '--batch-size', '2', '--train-iters', '1', '--infer-runs', '1', '--warmup', '0',
              '--threads', '1', cwd=ROOT).stdout
    table = out.split('Rows that differ in one thing')[0]
    rows = [ln.split(' | ')[0] for ln in table.splitlines() if ln.startswith('| ssdlite_')]
    name = '| ssdlite_mobilenext-050_1xb8-10e_shapes-160 (channels_last) (fused_bn) ' \
           '(depthwise_kernel)'
    assert rows == [name, name + ' (depthwise_separate)']


def test_benchmark_detectors_names_an_option_both_fixed_and_toggled():
    tool = osp.join(TOOLS, 'benchmark_detectors.py')
    res = run_main(tool, *DEMO, '--fixed', 'fused_bn', '--fused-bn', cwd=ROOT)
    assert res.returncode == 2
    assert res.stderr.startswith('error: --fixed fused_bn and --fused-bn')
    res = run_main(tool, *DEMO, '--fixed', 'depthwise_separate', cwd=ROOT)
    assert res.returncode == 2
    assert res.stderr.startswith('error: --fixed depthwise_separate needs --fixed fused_bn')
