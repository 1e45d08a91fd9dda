"""A stand-in for tools/train.py in the study tests: 'trains' one epoch per
second-less step, writing what mmengine writes (epoch_N.pth, last_checkpoint,
vis_data/scalars.json with a val record per epoch), resuming from the work
dir's last checkpoint with --resume, and dying after epoch FAKE_DIE_EPOCH of the
run whose work dir contains FAKE_DIE_IN (once: it leaves a marker). Each epoch
takes FAKE_EPOCH_SECONDS (default 0)."""
import json
import os
import os.path as osp
import sys
import time


def main() -> None:
    argv = sys.argv[1:]
    work_dir = argv[argv.index('--work-dir') + 1]
    opts = dict(o.split('=', 1) for o in argv[argv.index('--cfg-options') + 1:])
    max_epochs = int(opts.get('train_cfg.max_epochs', 3))
    seed = int(opts['randomness.seed'])
    lr = float(opts.get('optim_wrapper.optimizer.lr', 0.002))
    os.makedirs(work_dir, exist_ok=True)
    start = 0
    last = osp.join(work_dir, 'last_checkpoint')
    if '--resume' in argv and osp.isfile(last):
        with open(last) as f:
            start = int(osp.basename(f.read().strip())[len('epoch_'):-len('.pth')])
    with open(osp.join(work_dir, 'invocations.txt'), 'a') as f:
        f.write(f'start_epoch={start}\n')
    with open(osp.join(work_dir, 'ld_preload.txt'), 'w') as f:
        f.write(os.environ.get('LD_PRELOAD', ''))
    vis = osp.join(work_dir, time.strftime('%Y%m%d_%H%M%S') + f'_{start}', 'vis_data')
    os.makedirs(vis, exist_ok=True)
    bonus = 0.1 if 'mobilenext' in argv[0] + ' '.join(argv) else 0.0
    die_in, die_epoch = os.environ.get('FAKE_DIE_IN'), int(os.environ.get('FAKE_DIE_EPOCH', 0))
    marker = osp.join(work_dir, 'died_once')
    for epoch in range(start + 1, max_epochs + 1):
        time.sleep(float(os.environ.get('FAKE_EPOCH_SECONDS', 0)))
        ckpt = osp.join(work_dir, f'epoch_{epoch}.pth')
        open(ckpt, 'w').close()
        with open(last, 'w') as f:
            f.write(ckpt)
        ap = 0.1 * epoch / max_epochs + bonus + 0.01 * seed + lr
        with open(osp.join(vis, 'scalars.json'), 'a') as f:
            f.write(json.dumps(dict(loss=1.0 / epoch, step=epoch * 10)) + '\n')
            f.write(json.dumps({'coco/bbox_mAP': ap, 'coco/bbox_mAP_50': ap + 0.2,
                                'step': epoch}) + '\n')
        if die_in and die_in in work_dir and epoch == die_epoch and not osp.exists(marker):
            open(marker, 'w').close()
            sys.exit(1)


if __name__ == '__main__':
    main()
