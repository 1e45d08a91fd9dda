"""Test oracle: the authors' MobileNeXt classifier, transcribed in their own
structure (``SGBlock`` with the in-place slice-add shortcut, ``features`` /
``classifier`` Sequentials) so our network can be checked against it, and
saved as their timm ``CheckpointSaver`` saves it."""
import argparse
import math

import torch
import torch.nn as nn


def _make_divisible(v, divisor, min_value=None):
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class SGBlock(nn.Module):

    def __init__(self, inp, oup, stride, expand_ratio, keep_3x3=False, identity_div=1):
        super().__init__()
        hidden_dim = inp // expand_ratio
        if hidden_dim < oup / 6.:
            hidden_dim = math.ceil(oup / 6.)
            hidden_dim = _make_divisible(hidden_dim, 16)
        self.identity = False
        self.identity_div = identity_div
        if expand_ratio == 2:
            self.conv = nn.Sequential(
                nn.Conv2d(inp, inp, 3, 1, 1, groups=inp, bias=False), nn.BatchNorm2d(inp),
                nn.ReLU6(inplace=True),
                nn.Conv2d(inp, hidden_dim, 1, 1, 0, bias=False), nn.BatchNorm2d(hidden_dim),
                nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup),
                nn.ReLU6(inplace=True),
                nn.Conv2d(oup, oup, 3, stride, 1, groups=oup, bias=False), nn.BatchNorm2d(oup))
        elif inp != oup and stride == 1 and not keep_3x3:
            self.conv = nn.Sequential(
                nn.Conv2d(inp, hidden_dim, 1, 1, 0, bias=False), nn.BatchNorm2d(hidden_dim),
                nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup),
                nn.ReLU6(inplace=True))
        elif inp != oup and stride == 2 and not keep_3x3:
            self.conv = nn.Sequential(
                nn.Conv2d(inp, hidden_dim, 1, 1, 0, bias=False), nn.BatchNorm2d(hidden_dim),
                nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup),
                nn.ReLU6(inplace=True),
                nn.Conv2d(oup, oup, 3, stride, 1, groups=oup, bias=False), nn.BatchNorm2d(oup))
        else:
            if not keep_3x3:
                self.identity = True
            self.conv = nn.Sequential(
                nn.Conv2d(inp, inp, 3, 1, 1, groups=inp, bias=False), nn.BatchNorm2d(inp),
                nn.ReLU6(inplace=True),
                nn.Conv2d(inp, hidden_dim, 1, 1, 0, bias=False), nn.BatchNorm2d(hidden_dim),
                nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup),
                nn.ReLU6(inplace=True),
                nn.Conv2d(oup, oup, 3, 1, 1, groups=oup, bias=False), nn.BatchNorm2d(oup))

    def forward(self, x):
        out = self.conv(x)
        if self.identity:
            c = x.shape[1] // self.identity_div
            out[:, :c, :, :] = out[:, :c, :, :] + x[:, :c, :, :]
        return out


class OfficialMobileNeXt(nn.Module):

    def __init__(self, num_classes=1000, width_mult=1., identity_div=1):
        super().__init__()
        cfgs = [[2, 96, 1, 2], [6, 144, 1, 1], [6, 192, 3, 2], [6, 288, 3, 2],
                [6, 384, 4, 1], [6, 576, 4, 2], [6, 960, 3, 1], [6, 1280, 1, 1]]
        input_channel = _make_divisible(32 * width_mult, 8)
        layers = [nn.Sequential(nn.Conv2d(3, input_channel, 3, 2, 1, bias=False),
                                nn.BatchNorm2d(input_channel), nn.ReLU6(inplace=True))]
        for t, c, n, s in cfgs:
            output_channel = _make_divisible(c * width_mult, 8)
            if c == 1280 and width_mult < 1:
                output_channel = 1280
            layers.append(SGBlock(input_channel, output_channel, s, t, n == 1 and s == 1,
                                  identity_div))
            input_channel = output_channel
            for _ in range(n - 1):
                layers.append(SGBlock(input_channel, output_channel, 1, t,
                                      identity_div=identity_div))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(output_channel, num_classes))

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(x.view(x.size(0), -1))


def official_timm_checkpoint(path: str, ema: bool = False, prefix: str = '') -> nn.Module:
    """Save a random ``OfficialMobileNeXt`` to ``path`` as the authors' timm
    ``CheckpointSaver`` does (pickled ``args``, optimizer, keys with
    ``prefix``; with ``ema`` a second network in ``state_dict_ema``) and
    return the network whose weights a loader should take."""
    net = OfficialMobileNeXt().eval()
    sd = {prefix + k: v for k, v in net.state_dict().items()}
    ckpt = dict(epoch=209, arch='mobilenext', state_dict=sd,
                optimizer={'state': {}, 'param_groups': []},
                args=argparse.Namespace(model='mobilenext', lr=0.1), version=2,
                metric=74.02)
    if ema:
        ema_net = OfficialMobileNeXt().eval()
        ckpt['state_dict_ema'] = ema_net.state_dict()
        torch.save(ckpt, path)
        return ema_net
    torch.save(ckpt, path)
    return net
