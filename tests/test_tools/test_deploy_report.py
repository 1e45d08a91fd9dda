"""tools/deploy/report.py names bad arguments (one error line, exit 2) before
exporting anything; the report itself is tested in test_deploy/test_exported_detector.py.
The first refusal starts the tool as a user does, the others run its
``__main__`` in this process (tests/tool_main.py)."""
import os.path as osp

import pytest

from ..conftest import DEMO_DET, ROOT, run
from ..tool_main import run_main

pytest.importorskip('onnxruntime')
TOOL = osp.join(ROOT, 'tools', 'deploy', 'report.py')


def test_report_refuses_bad_arguments(tmp_path):
    out = str(tmp_path / 'out')
    for args, message in (([DEMO_DET], 'must be CONFIG CHECKPOINT pairs'),
                          ([DEMO_DET, str(tmp_path / 'nope.pth')], 'checkpoint file not found'),
                          ([DEMO_DET, DEMO_DET, '--names', 'a', 'b'], '--names has 2 labels'),
                          # these two were refused only after the export and evaluation
                          ([DEMO_DET, DEMO_DET, '--threads', '1', '-1'],
                           '--threads must be at least 0, got -1'),
                          ([DEMO_DET, DEMO_DET, '--num-calib', '0'],
                           '--num-calib must be at least 1, got 0')):
        if message.startswith('must be'):
            res = run(TOOL, *args, '--out-dir', out, cwd=ROOT, ok=False)
        else:
            res = run_main(TOOL, *args, '--out-dir', out, cwd=ROOT)
        assert res.returncode == 2 and res.stderr.startswith('error: ') and message in res.stderr
        assert res.stderr.count('\n') == 1, res.stderr
    assert not osp.exists(out)
