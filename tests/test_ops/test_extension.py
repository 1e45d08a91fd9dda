"""mnext_det/ops/extension.py: the build name of the kernels' extension and the
copy of the sources it compiles from, and the kernels' bitwise checks on a
build for another instruction set."""
import os
import platform
import shutil
import subprocess
import sys

import pytest

from mnext_det.ops import extension

from ..conftest import ROOT

# Builds the kernels for the x86-64 baseline with SSE4.2 (no AVX, no fma instruction)
# instead of this CPU, then runs the tests that compare two kernels bit for bit.
_BASELINE_BUILD = """
import sys
import pytest
from mnext_det.ops import extension
extension._CFLAGS = ['-O3', '-march=x86-64-v2', '-fopenmp']
extension.load_extension(required=True)
sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', *sys.argv[1:]]))
"""


def test_two_checkouts_share_one_build_compiled_from_one_copy(tmp_path, monkeypatch):
    """The same sources in another folder (a fresh clone) get the same build
    name and compile from the same copy, so torch's ninja file (which names
    the sources' paths) is unchanged and the clone does not rebuild; the copy
    is made once, by whichever process comes first."""
    monkeypatch.setenv('TORCH_EXTENSIONS_DIR', str(tmp_path / 'extensions'))
    name = extension._build_name()
    assert extension._build_name() == name and name.startswith('mnext_ops_')
    sources = extension._build_sources(name)
    assert sources == str(tmp_path / 'extensions' / f'{name}_src')
    files = sorted(extension._SOURCES + extension._HEADERS)
    assert sorted(os.listdir(sources)) == files
    copy = tmp_path / 'clone' / 'csrc'
    shutil.copytree(extension._CSRC, copy)
    monkeypatch.setattr(extension, '_CSRC', str(copy))
    assert extension._build_name() == name and extension._build_sources(name) == sources
    # another process renames its copy into place between the check and the rename
    rename = os.rename

    def racing(aside, folder):
        os.makedirs(os.path.join(folder, 'theirs'))
        rename(aside, folder)
    monkeypatch.setattr(os, 'rename', racing)
    other = name + 'x'
    assert extension._build_sources(other) == str(tmp_path / 'extensions' / f'{other}_src')
    assert sorted(os.listdir(tmp_path / 'extensions')) == [f'{name}_src', f'{other}_src']
    assert os.listdir(tmp_path / 'extensions' / f'{other}_src') == ['theirs']


def test_a_changed_header_changes_the_build_name(tmp_path, monkeypatch):
    copy = tmp_path / 'csrc'
    shutil.copytree(extension._CSRC, copy)
    monkeypatch.setattr(extension, '_CSRC', str(copy))
    name = extension._build_name()
    with open(copy / 'ops.h', 'a') as f:
        f.write('\n// edited\n')
    assert extension._build_name() != name


@pytest.mark.slow  # about 60 s: a second build of the extension
@pytest.mark.skipif(platform.machine() != 'x86_64' or shutil.which('g++') is None,
                    reason='builds for the x86-64 baseline with g++')
def test_bitwise_checks_hold_on_a_build_without_avx_or_fma():
    """Tests that compare two kernels bit for bit (the fused batch norm with and
    without ReLU6's mask, the depthwise conv and its batch norm as one op) hold
    on a CPU whose vectors are narrower and which has no fma instruction: no
    float sum's order may depend on what the compiler vectorises."""
    tests = ['tests/test_ops/test_batch_norm_act.py',
             'tests/test_ops/test_depthwise_conv_bn_act.py',
             'tests/test_engine/test_depthwise_conv.py']
    run = subprocess.run([sys.executable, '-c', _BASELINE_BUILD, *tests], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
