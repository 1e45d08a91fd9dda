"""The demo report's wall-time line names the stages the run had."""
from mnext_det.apis.demo import _report

_TIMES = dict(data_s=21.0, train_s=640.0, eval_s=9.0, total_s=690.0)


def test_without_pretraining_says_so():
    text = _report('TABLE', {'a': [(2, 0.1), (4, 0.25)]}, dict(_TIMES), resumed=False)
    assert '(data 21 s, no pretraining, detector training 640 s, evaluation 9 s)' in text
    assert '- a: ep2 0.100, ep4 0.250' in text and 'resumed' not in text


def test_with_pretraining_gives_its_time():
    text = _report('TABLE', {}, dict(_TIMES, pretrain_s=117.4), resumed=True)
    assert '(data 21 s, pretraining 117 s, detector training 640 s' in text
    assert 'This run resumed a killed one' in text
