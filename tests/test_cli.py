"""The ``mnext_det.cli`` command."""
import subprocess
import sys

from mnext_det.cli import main


def test_cli_models_and_env(capsys):
    assert main(['models']) == 0
    assert 'mobilenext_100' in capsys.readouterr().out.split()
    assert main(['models', '*_1?0']) == 0
    assert capsys.readouterr().out.split() == ['mobilenext_100', 'mobilenext_140']
    assert main(['models', 'mobilenetv2*']) == 2
    assert capsys.readouterr().err.startswith("error: no model name matches 'mobilenetv2*'; names")
    proc = subprocess.run([sys.executable, '-m', 'mnext_det.cli', 'env'], capture_output=True,
                          text=True, timeout=120)
    assert 'torch:' in proc.stdout and 'mmengine:' in proc.stdout


def test_cli_summary_names_bad_input(capsys, tmp_path):
    assert main(['summary', '--input-size', '0']) == 2
    assert capsys.readouterr().err == 'error: input_size must be >= 1, got 0\n'
    missing = str(tmp_path / 'missing.py')
    assert main(['summary', '--config', missing]) == 2
    assert capsys.readouterr().err == f'error: config file not found: {missing}\n'
