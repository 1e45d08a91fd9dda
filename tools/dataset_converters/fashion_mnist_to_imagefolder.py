"""Write Fashion-MNIST (the idx files of Debian's ``dataset-fashion-mnist``)
as an ImageFolder: ``OUT/train/<class>/<n>.png`` and ``OUT/val/<class>/<n>.png``,
or with ``--flat-val`` ``OUT/val/<n>.png`` plus ``OUT/meta/val.txt``.

    apt-get install dataset-fashion-mnist
    python tools/dataset_converters/fashion_mnist_to_imagefolder.py /tmp/fashion-mnist
"""
import argparse

from mnext_det.datasets.fashion_mnist import CLASSES, write_imagefolder
from mnext_det.tool_errors import run_tool


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out', help='output folder (outside the repository)')
    parser.add_argument('--src', default='/usr/share/datasets/fashion-mnist',
                        help='folder of the idx files')
    parser.add_argument('--per-class', type=int, default=None,
                        help='keep at most this many training images per class')
    parser.add_argument('--flat-val', action='store_true',
                        help='flat val folder plus meta/val.txt instead of class folders')
    args = parser.parse_args()
    for split, count in write_imagefolder(args.src, args.out, args.per_class,
                                          args.flat_val).items():
        print(f'{split}: {count} images in {len(CLASSES)} classes')


if __name__ == '__main__':
    run_tool(main)
