"""``SafeCheckpointHook``: mmengine's CheckpointHook made crash-safe."""
import glob
import os
import os.path as osp
from typing import Dict, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

from ..checkpoint import check_state_dict_fits, extract_state_dict, read_last_checkpoint
from ..identity_meta import (IDENTITY_META_KEY, check_identity_multiplier,
                             model_identity_multiplier)
from .atomic_io import TMP_SUFFIX, atomic_write_text
from .unwrap import unwrap_model

__all__ = ['SafeCheckpointHook', 'finished_training', 'NO_CHECKPOINT']

NO_CHECKPOINT = 'none (no checkpoint saved yet)'
_RESUME_HINT = ('--resume continues the run that wrote it, with its config; to start another '
                'model from its weights: load_from without --resume')


def finished_training(work_dir: str, max_epochs: int) -> bool:
    """Whether ``work_dir``'s last checkpoint exists and is epoch
    ``max_epochs``' (``epoch_{max_epochs}.pth``): its training ran to the end."""
    ckpt = read_last_checkpoint(work_dir)
    return ckpt is not None and osp.isfile(ckpt) and \
        osp.basename(ckpt) == f'epoch_{max_epochs}.pth'


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """CheckpointHook whose checkpoints survive a kill at any moment.

    Same arguments as :class:`mmengine.hooks.CheckpointHook`. Differences:

    - each checkpoint and ``last_checkpoint`` are written to a temporary
      file and renamed (``backend_args=dict(backend='local_atomic')`` unless
      another backend is configured), so a reader never sees a partial file;
    - ``last_checkpoint`` is updated only after the checkpoint is complete,
      and checkpoints beyond ``max_keep_ckpts`` are deleted only after that,
      so a kill during saving leaves the previous checkpoint in place and
      ``--resume`` finds it;
    - temporary files left by a killed save are removed at the next start;
    - each checkpoint's ``meta`` records the run's ``world_size``, so a resume
      on another number of processes is named (:mod:`.resume_check`), and
      the identity tensor multiplier of the model's MobileNeXt, so loading it
      into a model with another one is refused (:mod:`mnext_det.identity_meta`);
    - a resume from a checkpoint that does not fit the model (another config's
      run) stops with an error naming the file and the keys: mmengine loads
      it non-strictly and then fails on the optimizer state with a message
      that names neither; so does one from a run with another identity tensor
      multiplier or other classes, which mmengine resumes (with a warning
      that names neither the file nor the classes, for the latter).
    """

    def __init__(self, *args, backend_args: Optional[dict] = None, **kwargs) -> None:
        out_dir = kwargs.get('out_dir')
        remote = isinstance(out_dir, str) and '://' in out_dir
        if backend_args is None and not remote and kwargs.get('file_client_args') is None:
            backend_args = dict(backend='local_atomic')
        super().__init__(*args, backend_args=backend_args, **kwargs)

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if is_main_process() and osp.isdir(str(self.out_dir)):
            for tmp in glob.glob(osp.join(str(self.out_dir), f'.*{TMP_SUFFIX}')):
                print_log(f'removing {tmp}, left by an interrupted save', logger='current')
                os.remove(tmp)

    def before_save_checkpoint(self, runner, checkpoint: Dict) -> None:
        checkpoint['meta']['world_size'] = runner.world_size  # read by engine.resume_check
        identity = model_identity_multiplier(unwrap_model(runner.model))
        if identity is not None:
            checkpoint['meta'][IDENTITY_META_KEY] = identity  # read by identity_meta

    def after_load_checkpoint(self, runner, checkpoint: Dict) -> None:
        if not runner._resume:
            return
        path = runner._load_from or read_last_checkpoint(runner.work_dir) or 'the checkpoint'
        model = unwrap_model(runner.model)
        check_state_dict_fits(model, extract_state_dict(checkpoint, path), path, _RESUME_HINT)
        check_identity_multiplier(checkpoint, model, path, "the config's model")
        saved = ((checkpoint.get('meta') or {}).get('dataset_meta') or {}).get('classes')
        current = (getattr(runner.train_dataloader.dataset, 'metainfo', None) or {}).get(
            'classes')
        if saved is not None and current is not None and list(saved) != list(current):
            raise ValueError(f'{path} was trained on the classes {list(saved)}; this run\'s '
                             f'train data has {list(current)}: {_RESUME_HINT}')

    def _save_checkpoint_with_step(self, runner, step: int, meta: Dict) -> None:
        stale = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                stale.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        atomic_write_text(osp.join(runner.work_dir, 'last_checkpoint'), str(self.last_ckpt))
        for old in stale:
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(old))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):
                self.file_backend.rmtree(path)
