_base_ = './mobilenext-100_8xb64-210e_in1k.py'

model = dict(backbone=dict(widen_factor=0.35))
