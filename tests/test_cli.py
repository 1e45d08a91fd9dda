"""The ``mnext_det.cli`` command."""
import subprocess
import sys

from mnext_det.cli import main


def test_cli_models_and_env(capsys):
    assert main(['models']) == 0
    assert 'mobilenext_100' in capsys.readouterr().out.split()
    proc = subprocess.run([sys.executable, '-m', 'mnext_det.cli', 'env'], capture_output=True,
                          text=True, timeout=120)
    assert 'torch:' in proc.stdout and 'mmengine:' in proc.stdout
