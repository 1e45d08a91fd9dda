"""create_model and the official checkpoint formats."""

import pytest
import torch

from mnext_det import create_model, list_models
from mnext_det.checkpoint import CheckpointMismatchError

from ..conftest import MODEL_NAMES
from ..official_mnext import OfficialMobileNeXt, official_timm_checkpoint


def test_list_models():
    assert list_models() == sorted(MODEL_NAMES)
    assert list_models('*_1?0') == ['mobilenext_100', 'mobilenext_140']
    assert list_models('mobilenetv2*') == []


@pytest.mark.parametrize('name', MODEL_NAMES)
def test_every_model_forward_backward(name):
    model = create_model(name, num_classes=10)
    x = torch.randn(2, 3, 64, 64)
    logits = model(x)
    assert logits.shape == (2, 10)
    assert torch.isfinite(logits).all()
    logits.sum().backward()
    assert model.backbone.features[0][0].weight.grad is not None
    assert model.forward_head(model.forward_features(x), pre_logits=True).shape == (
        2, model.num_features)


def test_unknown_name_suggests_closest():
    with pytest.raises(ValueError, match=r"unknown model name 'mobilenext_10'.*Did you mean "
                       r"'mobilenext_100' or 'mobilenext_140'\?$"):  # equally close
        create_model('mobilenext_10')
    with pytest.raises(ValueError, match=r"Did you mean 'mobilenext_100'\?$"):
        create_model('mobilenext-100')


@pytest.mark.parametrize('name', ['mobilenetv2_100', 'mobilenet_v2', 'MobileNetV2-1.0'])
def test_mobilenetv2_name_points_to_the_baseline_configs(name):
    # the closest MobileNeXt name ('mobilenext_100') would build another network
    with pytest.raises(ValueError, match=r"create_model builds MobileNeXt; the MobileNetV2 "
                       r"baseline is mmdet's MobileNetV2 backbone in the configs: "
                       r"configs/imagenet/mobilenetv2-100_8xb64-210e_in1k\.py") as error:
        create_model(name)
    assert 'Did you mean' not in str(error.value)


def test_pretrained_needs_a_checkpoint(tmp_path):
    with pytest.raises(ValueError, match=r"pretrained=True\): no weights are downloaded; "
                                         r"pass checkpoint=PATH"):
        create_model('mobilenext_050', pretrained=True)
    official = OfficialMobileNeXt(num_classes=5, width_mult=0.5).eval()
    path = str(tmp_path / 'w050.pth')
    torch.save(official.state_dict(), path)
    model = create_model('mobilenext_050', pretrained=True, num_classes=5, checkpoint=path).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), official(x))
    assert isinstance(create_model('mobilenext_050', pretrained=False), torch.nn.Module)


@pytest.mark.parametrize('kwargs, hint', [
    (dict(identiy_tensor_multiplier=0.5),
     r"\['identiy_tensor_multiplier'\]; identiy_tensor_multiplier: did you mean "
     r"'identity_tensor_multiplier'\?"),
    (dict(checkpoint_path='w.pth'),
     r"\['checkpoint_path'\]; checkpoint_path: pass checkpoint=PATH"),
    (dict(in_channels=1), r"\['in_channels'\]; in_channels: pass in_chans=N \(timm's name\)"),
])
def test_unknown_argument_is_named_with_its_fix(kwargs, hint):
    with pytest.raises(ValueError, match=r'create_model: unknown argument\(s\) ' + hint) as e:
        create_model('mobilenext_050', **kwargs)
    assert "'identity_tensor_multiplier', 'out_indices'" in str(e.value)


def test_features_only_is_the_backbone_with_the_checkpoints_weights(tmp_path):
    """timm's ``features_only``: the feature maps at strides 2-32 by
    default, ``feature_info`` with ``channels()``/``reduction()``, the
    backbone tensors of the authors', this project's or a backbone-only file
    loaded strictly, the classifier left out."""
    from mnext_det import MobileNeXt
    features = create_model('mobilenext_050', features_only=True).eval()
    assert isinstance(features, MobileNeXt)
    x = torch.randn(2, 3, 64, 64)
    maps = features(x)
    assert [m.shape[-1] for m in maps] == [32, 16, 8, 4, 2]
    assert features.feature_info.reduction() == [2, 4, 8, 16, 32]
    assert features.feature_info.channels() == [m.shape[1] for m in maps]
    official = OfficialMobileNeXt(num_classes=5, width_mult=0.5).eval()
    authors = tmp_path / 'authors.pth'
    torch.save(official.state_dict(), authors)
    ours = create_model('mobilenext_050', num_classes=5, checkpoint=str(authors)).eval()
    project = tmp_path / 'project.pth'
    torch.save(dict(state_dict=ours.state_dict()), project)
    backbone_only = tmp_path / 'backbone.pth'
    torch.save(dict(state_dict=ours.backbone.state_dict()), backbone_only)
    with torch.no_grad():
        ours.backbone.out_indices = (5, 20)
        expected = ours.backbone(x)
        for path in (authors, project, backbone_only):
            loaded = create_model('mobilenext_050', features_only=True, out_indices=(5, 20),
                                  checkpoint=str(path)).eval()
            for got, want in zip(loaded(x), expected, strict=True):
                torch.testing.assert_close(got, want, rtol=0, atol=0)
    with pytest.raises(CheckpointMismatchError, match=r"model 'mobilenext_100' \(features_only: "
                       'its backbone\)'):
        create_model('mobilenext_100', features_only=True, checkpoint=str(project))


def test_reset_classifier():
    model = create_model('mobilenext_050')
    model.reset_classifier(7)
    assert model(torch.randn(2, 3, 64, 64)).shape == (2, 7)
    with pytest.raises(ValueError, match='num_classes must be an int >= 1, got 0'):
        model.reset_classifier(0)
    assert model(torch.randn(2, 3, 64, 64)).shape == (2, 7)


def test_timm_keywords_model_name_and_num_classes_0():
    """timm users write create_model(model_name=..., num_classes=...)."""
    model = create_model(model_name='mobilenext_050', num_classes=3)
    assert model(torch.randn(1, 3, 64, 64)).shape == (1, 3)
    with pytest.raises(ValueError, match=r"got 0; timm's num_classes=0 \(no classifier\) is here "
                       r'model\.forward_head\(model\.forward_features\(x\), pre_logits=True\)'):
        create_model(model_name='mobilenext_050', num_classes=0)
    pooled = model.forward_head(model.forward_features(torch.randn(1, 3, 64, 64)), pre_logits=True)
    assert pooled.shape == (1, model.num_features)


def test_official_timm_checkpoint_loads_with_args_namespace(tmp_path):
    path = str(tmp_path / 'mnext.pth.tar')
    official = official_timm_checkpoint(path, prefix='module.')
    model = create_model('mobilenext_100', checkpoint=path).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), official(x))


def test_official_ema_weights(tmp_path):
    path = str(tmp_path / 'mnext_ema.pth.tar')
    ema = official_timm_checkpoint(path, ema=True)
    model = create_model('mobilenext_100', checkpoint=path, use_ema=True).eval()
    with torch.no_grad():
        x = torch.randn(1, 3, 64, 64)
        torch.testing.assert_close(model(x), ema(x))


def test_plain_state_dict_and_roundtrip(tmp_path):
    official = OfficialMobileNeXt(num_classes=5, width_mult=0.5).eval()
    plain = str(tmp_path / 'plain.pth')
    torch.save(official.state_dict(), plain)
    model = create_model('mobilenext_050', num_classes=5, checkpoint=plain).eval()
    ours = str(tmp_path / 'ours.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict(arch='mobilenext_050')), ours)
    again = create_model('mobilenext_050', num_classes=5, checkpoint=ours).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(again(x), official(x))


@pytest.mark.parametrize('in_chans', [1, 2, 6])
def test_in_chans_adapts_an_rgb_checkpoint(tmp_path, in_chans):
    """timm's in_chans: the stem takes that many channels and the RGB weights
    are adapted: summed for one channel and cycled at 3 / in_chans for more,
    so that one grey image given in every channel makes the stem output its
    RGB copy made (exactly for 1 and multiples of 3); a stem already of that
    width loads unchanged, and into an RGB model it is refused."""
    official = OfficialMobileNeXt(num_classes=5, width_mult=0.35).eval()
    path = str(tmp_path / 'rgb.pth')
    torch.save(official.state_dict(), path)
    model = create_model('mobilenext_035', num_classes=5, checkpoint=path, in_chans=in_chans).eval()
    stem, rgb = model.backbone.features[0][0], official.features[0][0].weight
    assert stem.in_channels == in_chans
    torch.testing.assert_close(stem.weight, rgb[:, [c % 3 for c in range(in_chans)]] * 3 / in_chans
                               if in_chans > 1 else rgb.sum(1, keepdim=True))
    grey = torch.rand(2, 1, 32, 32)
    with torch.no_grad():
        ours, theirs = stem(grey.expand(-1, in_chans, -1, -1)), official.features[0][0](
            grey.expand(-1, 3, -1, -1))
    if in_chans % 3 == 0 or in_chans == 1:
        torch.testing.assert_close(ours, theirs)
    else:
        assert not torch.allclose(ours, theirs, atol=1e-3)
    ours_path = str(tmp_path / 'ours.pth')
    torch.save(model.state_dict(), ours_path)
    again = create_model('mobilenext_035', num_classes=5, checkpoint=ours_path, in_chans=in_chans)
    torch.testing.assert_close(again.state_dict(), model.state_dict())
    with pytest.raises(CheckpointMismatchError, match='features.0.0.weight'):
        create_model('mobilenext_035', num_classes=5, checkpoint=ours_path)
    with pytest.raises(ValueError, match='in_chans must be an int >= 1, got 0'):
        create_model('mobilenext_035', in_chans=0)


def test_mismatched_checkpoint_lists_keys(tmp_path):
    path = str(tmp_path / 'w050.pth')
    torch.save(OfficialMobileNeXt(width_mult=0.5).state_dict(), path)
    with pytest.raises(CheckpointMismatchError, match='shape mismatches') as e:
        create_model('mobilenext_100', checkpoint=path)
    assert isinstance(e.value, ValueError) and '\n' not in str(e.value)
    assert 'w050.pth' in str(e.value) and "model 'mobilenext_100'" in str(e.value)
    assert e.value.filename == path and not e.value.missing and not e.value.unexpected
    assert e.value.misshaped[0].startswith('backbone.features.0.0.weight: checkpoint (16,')
    sd = OfficialMobileNeXt().state_dict()
    sd.pop('classifier.1.bias')
    sd['extra.weight'] = torch.zeros(1)
    torch.save(sd, path)
    with pytest.raises(CheckpointMismatchError, match=r'1 missing keys \(classifier.1.bias\)') as e:
        create_model('mobilenext_100', checkpoint=path)
    assert '1 unexpected keys (extra.weight)' in str(e.value)
    assert (e.value.missing, e.value.unexpected, e.value.misshaped) == (
        ['classifier.1.bias'], ['extra.weight'], [])


def test_missing_file():
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        create_model('mobilenext_100', checkpoint='nope.pth')
