"""mnext_det/ops/extension.py: the build name of the kernels' extension."""
import shutil

from mnext_det.ops import extension


def test_two_checkouts_build_under_their_own_names(tmp_path, monkeypatch):
    """The same sources in another folder get another build name: torch's ninja
    file names the sources' paths, so sharing one build folder would rebuild it
    each time the other checkout loads it."""
    name = extension._build_name()
    assert extension._build_name() == name and name.startswith('mnext_ops_')
    copy = tmp_path / 'csrc'
    shutil.copytree(extension._CSRC, copy)
    monkeypatch.setattr(extension, '_CSRC', str(copy))
    assert extension._build_name() != name and extension._build_name().startswith('mnext_ops_')


def test_a_changed_header_changes_the_build_name(tmp_path, monkeypatch):
    copy = tmp_path / 'csrc'
    shutil.copytree(extension._CSRC, copy)
    monkeypatch.setattr(extension, '_CSRC', str(copy))
    name = extension._build_name()
    with open(copy / 'ops.h', 'a') as f:
        f.write('\n// edited\n')
    assert extension._build_name() != name
