# VOC07+12 trainval -> VOC07 test with the SSDLite-320 pipelines of
# coco_detection.py; VOCMetric mAP@0.5 with VOC2007's '11points' rule.
_base_ = './coco_detection.py'

dataset_type = 'VOCDataset'
data_root = 'data/VOCdevkit/'
backend_args = None
voc_filter = dict(filter_empty_gt=True, min_size=32, bbox_min_size=32)

train_dataloader = dict(
    dataset=dict(
        times=3,
        dataset=dict(
            _delete_=True,
            type='ConcatDataset',
            # VOCDataset sets a per-year `dataset_type` in its metainfo
            ignore_keys=['dataset_type'],
            datasets=[
                dict(
                    type=dataset_type,
                    data_root=data_root,
                    ann_file='VOC2007/ImageSets/Main/trainval.txt',
                    data_prefix=dict(sub_data_root='VOC2007/'),
                    filter_cfg=voc_filter,
                    pipeline={{_base_.train_pipeline}},
                    backend_args=backend_args),
                dict(
                    type=dataset_type,
                    data_root=data_root,
                    ann_file='VOC2012/ImageSets/Main/trainval.txt',
                    data_prefix=dict(sub_data_root='VOC2012/'),
                    filter_cfg=voc_filter,
                    pipeline={{_base_.train_pipeline}},
                    backend_args=backend_args)
            ])))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        ann_file='VOC2007/ImageSets/Main/test.txt',
        data_prefix=dict(sub_data_root='VOC2007/'),
        test_mode=True,
        pipeline={{_base_.test_pipeline}},
        backend_args=backend_args))
test_dataloader = val_dataloader

val_evaluator = dict(_delete_=True, type='VOCMetric', metric='mAP', eval_mode='11points')
test_evaluator = val_evaluator
