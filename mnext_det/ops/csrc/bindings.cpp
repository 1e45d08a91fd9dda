// The Python module of mnext_det.ops (mnext_det/ops/extension.py builds it).
#include "ops.h"

#include <torch/extension.h>

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("batch_norm_act_forward", &batch_norm_act_forward,
        "batch norm (+ ReLU6) training forward");
  m.def("batch_norm_act_backward", &batch_norm_act_backward,
        "batch norm (+ ReLU6) training backward");
  m.def("depthwise_conv3x3_forward", &depthwise_conv3x3_forward,
        "3x3 depthwise conv forward (channels-last)");
  m.def("depthwise_conv3x3_backward", &depthwise_conv3x3_backward,
        "3x3 depthwise conv input and weight gradients (channels-last)");
  m.def("depthwise_conv3x3_bn_act_backward", &depthwise_conv3x3_bn_act_backward,
        "3x3 depthwise conv + batch norm (+ ReLU6) backward (channels-last)");
}
