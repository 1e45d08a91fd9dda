"""EmptyEpochCheckHook: a training loader that gives no batch stops the run."""
import os

from ..fault_injection import run_train, write_classification_run


def test_a_loader_without_a_batch_stops_before_the_first_epoch(tmp_path):
    """With drop_last, fewer samples than a batch made every epoch empty:
    mmengine validated the initial weights, saved them and exited 0."""
    cfg = write_classification_run(tmp_path, max_epochs=2, batch_size=64)
    work = tmp_path / 'work'
    proc = run_train([cfg, '--work-dir', str(work)])
    assert proc.returncode == 2, proc.stderr[-2000:]
    images = sum(len(files) for _, _, files in os.walk(tmp_path / 'data' / 'train'))
    assert proc.stderr.strip().splitlines()[-1] == (
        f'error: train_dataloader gives no batch: {images} sample(s) per process ({images} in '
        f'its dataset) and batch_size 64 with drop_last=True; set '
        f'train_dataloader.batch_size={images} or less, or give it more data')
    assert not [f for f in os.listdir(work) if f.endswith('.pth')]
