"""A small SSDLite head and the inputs its tests feed it: two levels of
anchors, a train config as mmdet's SSD has it, and seeded batches of boxes.
Imports mmdet: a test module imports it after ``pytest.importorskip('mmdet')``."""
import torch
from mmdet.utils import register_all_modules
from mmengine.config import ConfigDict
from mmengine.registry import init_default_scope


def use_mmdet_scope() -> None:
    """mmdet's registries and scope, whatever scope an earlier test left
    behind: the heads build their anchor generator and coder from them."""
    register_all_modules(init_default_scope=False)
    init_default_scope('mmdet')


HEAD = dict(num_classes=3, in_channels=(8, 16), use_depthwise=True,
            anchor_generator=dict(type='SSDAnchorGenerator', scale_major=False, strides=[8, 16],
                                  ratios=[[2], [2]], min_sizes=[8, 16], max_sizes=[16, 32]),
            bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[.0] * 4,
                            target_stds=[0.1, 0.1, 0.2, 0.2]),
            test_cfg=ConfigDict(nms_pre=100, nms=dict(type='nms', iou_threshold=0.45),
                                min_bbox_size=0, score_thr=0.0, max_per_img=10))


def train_cfg() -> ConfigDict:
    """mmdet's SSD train settings: IoU 0.5 assignment, 3:1 hard negatives."""
    return ConfigDict(assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.5,
                                    min_pos_iou=0., ignore_iof_thr=-1,
                                    gt_max_assign_all=False),
                      sampler=dict(type='PseudoSampler'), smoothl1_beta=1.,
                      allowed_border=-1, pos_weight=-1, neg_pos_ratio=3, debug=False)


def batch(pad_shapes, seed=0):
    """Image metas and two seeded random boxes per image, one image per
    ``(h, w)`` padded shape."""
    from mmengine.structures import InstanceData
    gen = torch.Generator().manual_seed(seed)
    metas, gts = [], []
    for h, w in pad_shapes:
        metas.append(dict(img_shape=(h, w), pad_shape=(h, w)))
        xy = torch.rand(2, 2, generator=gen) * 16
        wh = 8 + 8 * torch.rand(2, 2, generator=gen)
        gts.append(InstanceData(bboxes=torch.cat([xy, xy + wh], 1),
                                labels=torch.randint(0, 3, (2, ), generator=gen)))
    return metas, gts
