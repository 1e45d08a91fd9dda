"""Two detection datasets that must give the same samples: the check that a
cached pipeline replays what the plain one computes."""
import numpy as np
import torch


def assert_same_samples(cached, plain, epochs=2):
    """Both detection datasets give equal images, boxes and meta over
    ``epochs`` epochs with the same seeds (a cache replays from the second, the
    random transforms after it draw anew); return ``cached``'s last epoch."""
    for epoch in range(epochs):
        samples = []
        for dataset in (cached, plain):
            np.random.seed(epoch)
            samples.append([dataset[i] for i in range(len(dataset))])
        for a, b in zip(*samples):
            assert torch.equal(a['inputs'], b['inputs'])
            assert torch.equal(a['data_samples'].gt_instances.bboxes.tensor,
                               b['data_samples'].gt_instances.bboxes.tensor)
            assert a['data_samples'].flip == b['data_samples'].flip
            assert a['data_samples'].scale_factor == b['data_samples'].scale_factor
    return samples[0]
