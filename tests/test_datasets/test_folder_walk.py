"""mnext_det/datasets/folder_walk.py: the image list of the inference tools'
file-or-folder arguments."""
import pytest

from mnext_det.datasets import list_images


def test_list_images_expands_folders_in_order_and_keeps_files(tmp_path):
    folder = tmp_path / 'imgs'
    (folder / 'sub').mkdir(parents=True)
    for name in ('b.JPG', 'a.png', '.hidden.png', 'notes.txt', 'sub/c.jpg'):
        (folder / name).write_bytes(b'x')
    single = tmp_path / 'z.webp'
    single.write_bytes(b'x')
    assert list_images([str(single), str(folder)]) == [
        str(single), str(folder / 'a.png'), str(folder / 'b.JPG')]


def test_list_images_names_missing_path_and_empty_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match='not found: .*missing.jpg'):
        list_images([str(tmp_path / 'missing.jpg')])
    (tmp_path / 'empty').mkdir()
    (tmp_path / 'empty' / 'readme.md').write_text('no images')
    with pytest.raises(FileNotFoundError, match=f'no images .* in folder {tmp_path / "empty"}'):
        list_images([str(tmp_path / 'empty')])
