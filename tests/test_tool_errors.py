"""tool_errors: a config type no registry holds ends a tool in one line with the closest
names; an error raised in a DataLoader worker in one line of its own."""
import pytest
import torch
from mmdet.registry import MODELS

import mnext_det.detection  # noqa: F401  (registers MobileNeXt and TappedMobileNetV2)
from mnext_det.datasets import BadSampleError
from mnext_det.tool_errors import USER_ERROR_EXIT, registry_miss, run_tool, tool_status


def _miss(type_name):
    with pytest.raises(KeyError) as info:
        MODELS.build(dict(type=type_name))
    return info.value


def test_registry_miss_suggests_the_closest_registered_names():
    assert registry_miss(_miss('MobileNext')) == (
        "config: type 'MobileNext' is not in the mmdet::model registry; "
        "did you mean 'MobileNeXt' or 'MobileNetV2' or 'TappedMobileNetV2'?")
    assert 'is its module in the config\'s custom_imports?' in registry_miss(_miss('Zzzqq'))
    assert registry_miss(KeyError('some_key')) is None


def test_a_type_of_an_import_the_config_left_out_names_that_import():
    """``custom_imports = dict(imports=['mnext_det'])`` registers the
    backbone but not the SSDLite neck and head: the closest registered
    name was mmdet's SSDNeck, another network."""
    import subprocess
    import sys
    code = ('import mnext_det\n'
            'from mmdet.registry import MODELS\n'
            'from mnext_det.tool_errors import registry_miss\n'
            'try:\n'
            '    MODELS.build(dict(type="SSDLiteNeck"))\n'
            'except KeyError as e:\n'
            '    print(registry_miss(e))\n')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    assert out.stdout == ("config: type 'SSDLiteNeck' is not in the mmdet::model registry: "
                          "mnext_det.detection registers it; set custom_imports = "
                          "dict(imports=['mnext_det.detection'])\n"), out.stderr


def test_run_tool_ends_a_registry_miss_with_one_line_and_keeps_other_key_errors(capsys):
    def bad_type():
        MODELS.build(dict(type='SSDLiteNek'))

    with pytest.raises(SystemExit) as info:
        run_tool(bad_type)
    assert info.value.code == USER_ERROR_EXIT
    err = capsys.readouterr().err
    assert err.startswith("error: config: type 'SSDLiteNek' is not in the mmdet::model registry; "
                          'did you mean') and err.count('\n') == 1

    def bug():
        return {}['missing']

    with pytest.raises(KeyError, match='missing'):
        run_tool(bug)


def test_a_package_of_an_extra_that_is_missing_is_named_with_its_extra(capsys):
    """A user without `.[export]` running an export tool: one line naming the
    extra, where Python printed a traceback; any other missing module is a bug."""
    def needs_onnxruntime():
        import onnxruntime_not_here  # noqa: F401
    # the module name of an extra's package, as Python reports it when it is missing
    error = ModuleNotFoundError("No module named 'onnxruntime'", name='onnxruntime')

    def missing_onnxruntime():
        raise error
    assert tool_status(missing_onnxruntime) == USER_ERROR_EXIT
    assert capsys.readouterr().err == (
        "error: onnxruntime is not installed; it comes with mnext-det's 'export' extra: pip "
        "install -e '.[export]' (make install installs all but tflite)\n")
    with pytest.raises(ModuleNotFoundError, match='onnxruntime_not_here'):
        tool_status(needs_onnxruntime)


class _MissingFiles(torch.utils.data.Dataset):
    def __init__(self, error):
        self.error = error

    def __len__(self):
        return 2

    def __getitem__(self, index):
        raise self.error(f'/data/img_{index}.jpg: missing_file')


@pytest.mark.parametrize('error', [FileNotFoundError, BadSampleError])
def test_an_error_in_a_dataloader_worker_is_its_own_line_not_the_traceback(error, capsys):
    """torch re-raises a worker's error with the worker's whole traceback as
    its message; the tools printed all of it joined into one line."""
    def main():
        next(iter(torch.utils.data.DataLoader(_MissingFiles(error), num_workers=1)))
    assert tool_status(main) == USER_ERROR_EXIT
    assert capsys.readouterr().err == ('error: /data/img_0.jpg: missing_file '
                                       '(in DataLoader worker process 0)\n')
    assert tool_status(lambda: next(iter(_MissingFiles(error)))) == USER_ERROR_EXIT  # no worker
    assert capsys.readouterr().err == 'error: /data/img_0.jpg: missing_file\n'


def test_a_worker_error_of_several_lines_keeps_them_all():
    from mnext_det.tool_errors import error_line
    text = ('Caught ValueError in DataLoader worker process 3.\nOriginal Traceback (most recent '
            'call last):\n  File "x.py", line 1, in f\n    raise ValueError(m)\n'
            'ValueError: a.jpg: first\nsecond\n')
    assert error_line(ValueError(text)) == ('error: a.jpg: first; second '
                                            '(in DataLoader worker process 3)')
