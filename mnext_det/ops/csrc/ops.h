// The CPU training kernels of mnext_det.ops, compiled into one extension
// (bindings.cpp): float32 tensors, NCHW sizes, channels-last memory where named.
#pragma once

#include <ATen/ATen.h>

#include <vector>

// Training-mode batch norm (+ ReLU6): batch_norm_act.cpp.
std::vector<at::Tensor> batch_norm_act_forward(const at::Tensor& x, const at::Tensor& weight,
                                               const at::Tensor& bias, at::Tensor running_mean,
                                               at::Tensor running_var, double momentum, double eps,
                                               bool relu6, bool channels_last);
std::vector<at::Tensor> batch_norm_act_backward(const at::Tensor& grad, const at::Tensor& x,
                                                const at::Tensor& mean, const at::Tensor& invstd,
                                                const at::Tensor& scale, const at::Tensor& weight,
                                                const at::Tensor& bias, bool relu6,
                                                bool channels_last);

// 3x3 depthwise conv, padding 1, stride 1 or 2, no bias, channels-last:
// depthwise_conv3x3.cpp.
at::Tensor depthwise_conv3x3_forward(const at::Tensor& x, const at::Tensor& weight,
                                     int64_t stride);
// Returns (grad_input, grad_weight), each an undefined tensor where not asked for.
std::vector<at::Tensor> depthwise_conv3x3_backward(const at::Tensor& grad, const at::Tensor& x,
                                                   const at::Tensor& weight, int64_t stride,
                                                   bool input_grad, bool weight_grad);

// The 3x3 depthwise conv followed by training-mode batch norm (+ ReLU6), both
// channels-last: the backward from batch norm's output gradient `grad`, with
// `y` the conv's output and (mean, invstd, scale) batch norm's forward
// results. The conv's output gradient is computed row by row as it is consumed
// and never written. Returns (grad_input, grad_weight, grad_bn_weight, grad_bn_bias),
// the first two undefined where not asked for.
std::vector<at::Tensor> depthwise_conv3x3_bn_act_backward(
    const at::Tensor& grad, const at::Tensor& x, const at::Tensor& weight, const at::Tensor& y,
    const at::Tensor& mean, const at::Tensor& invstd, const at::Tensor& scale,
    const at::Tensor& bn_weight, const at::Tensor& bn_bias, int64_t stride, bool relu6,
    bool input_grad, bool weight_grad);
