"""mnext_det/datasets/folder_walk.py: the image list of the inference tools'
file-or-folder arguments."""
import pytest

from mnext_det.datasets import list_images, skipped_note


def test_list_images_expands_folders_in_order_and_keeps_files(tmp_path):
    folder = tmp_path / 'imgs'
    (folder / 'sub').mkdir(parents=True)
    for name in ('b.JPG', 'a.png', '.hidden.png', 'notes.txt', 'sub/c.jpg'):
        (folder / name).write_bytes(b'x')
    single = tmp_path / 'z.webp'
    single.write_bytes(b'x')
    images, others = list_images([str(single), str(folder)])
    assert images == [str(single), str(folder / 'a.png'), str(folder / 'b.JPG')]
    assert others == [str(folder / 'notes.txt')]  # said, not dropped without a word
    assert 'skipped 1 file(s) whose names are not an image' in skipped_note(others)
    assert skipped_note(others).endswith(str(folder / 'notes.txt'))
    assert skipped_note([]) == ''
    many = skipped_note([f'{i}.gif' for i in range(7)], shown=5)
    assert many.endswith('3.gif, 4.gif, ... (2 more)')


def test_list_images_names_missing_path_and_empty_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match='not found: .*missing.jpg'):
        list_images([str(tmp_path / 'missing.jpg')])
    (tmp_path / 'empty').mkdir()
    (tmp_path / 'empty' / 'readme.md').write_text('no images')
    with pytest.raises(FileNotFoundError, match=f'no images .* in folder {tmp_path / "empty"}'):
        list_images([str(tmp_path / 'empty')])


def test_output_stems_keep_names_apart(tmp_path):
    """photo.jpg and photo.png would both be drawn to photo.png."""
    from mnext_det.datasets import output_stems
    assert output_stems(['a/photo.jpg', 'a/photo.png', 'a/cat.jpg']) == [
        'photo_jpg', 'photo_png', 'cat']
    with pytest.raises(ValueError, match='images named photo.jpg in two folders'):
        output_stems(['a/photo.jpg', 'b/photo.jpg'])
    with pytest.raises(ValueError, match=r'image a/\.\./a/cat\.jpg is given twice'):
        output_stems(['a/cat.jpg', 'a/../a/cat.jpg'])
