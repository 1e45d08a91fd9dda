# The recipe plus EMA of the weights (decay 0.9998, as in the authors' later
# run). Validation and the saved state_dict use the EMA weights; the raw
# weights are kept in the checkpoint's ema_state_dict for resuming.
_base_ = './mobilenext-100_8xb64-210e_in1k.py'

custom_hooks = [
    dict(type='ClassListCheckHook'),
    dict(type='EMAHook', ema_type='ExponentialMovingAverage', momentum=2e-4,
         update_buffers=True, priority='ABOVE_NORMAL'),
]
