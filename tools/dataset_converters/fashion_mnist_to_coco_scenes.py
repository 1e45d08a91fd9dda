"""Write detection scenes of Fashion-MNIST items (the idx files of Debian's
``dataset-fashion-mnist``) as a COCO dataset: ``OUT/images/*.jpg`` and
``OUT/annotations/instances_{train,val}.json``, 10 classes of real photographs
(layout and rules: mnext_det/datasets/fashion_scenes.py).

    apt-get install dataset-fashion-mnist
    python tools/dataset_converters/fashion_mnist_to_coco_scenes.py data/fashion-scenes
"""
import argparse
import os.path as osp
import time

from mnext_det.datasets.fashion_scenes import FashionScenesConfig, write_fashion_scenes
from mnext_det.tool_errors import run_tool


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out', help='output folder')
    parser.add_argument('--src', default='/usr/share/datasets/fashion-mnist',
                        help='folder of the idx files')
    default = FashionScenesConfig()
    parser.add_argument('--num-train', type=int, default=default.num_train)
    parser.add_argument('--num-val', type=int, default=default.num_val)
    parser.add_argument('--seed', type=int, default=default.seed)
    parser.add_argument('--force', action='store_true', help='overwrite an existing dataset')
    args = parser.parse_args()
    cfg = FashionScenesConfig(num_train=args.num_train, num_val=args.num_val, seed=args.seed)
    existing = osp.join(args.out, 'annotations', 'instances_train.json')
    if osp.exists(existing) and not args.force:
        raise ValueError(f'{existing} exists: OUT already holds a dataset (--force overwrites it)')
    start = time.time()
    counts = write_fashion_scenes(args.src, args.out, cfg)
    print(f'wrote {args.out}: {cfg.num_train} train / {cfg.num_val} val scenes of '
          f'{cfg.width} x {cfg.height}, objects per split {counts}, in '
          f'{time.time() - start:.0f} s')


if __name__ == '__main__':
    run_tool(main)
