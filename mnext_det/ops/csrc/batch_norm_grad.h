// The backward of training-mode batch norm (+ ReLU6) in two steps, for
// kernels that consume its input gradient as they go instead of reading it
// from memory (depthwise_conv3x3.cpp): the per-channel sums over the whole
// batch first, then each input-gradient value from its own gradient and
// input. batch_norm_act.cpp's backward is the same two steps.
#pragma once

#include <ATen/ATen.h>

#include <vector>

// A select without short-circuit branches, so that the loops vectorise.
inline float relu6_mask(float v, float g) { return ((v > 0.f) & (v < 6.f)) ? g : 0.f; }

// The normalised value before the clip; forward and backward both use this
// one expression (one rounding in the fma), so backward's mask is forward's clip.
inline float pre_activation(float x, float centre, float scale, float shift) {
  return __builtin_fmaf(x - centre, scale, shift);
}

// The gradient that reaches batch norm: through ReLU6's mask, or as it is.
template <bool RELU6>
inline float masked(float g, float x, float centre, float scale, float shift) {
  if constexpr (RELU6) return relu6_mask(pre_activation(x, centre, scale, shift), g);
  return g;
}

// grad_input = k1 * (g' - k2 - (x - mean) * k3), g' the gradient through the mask.
template <bool RELU6>
inline float batch_norm_grad_input(float g, float x, float mean, float scale, float shift,
                                   float k1, float k2, float k3) {
  return k1 * (masked<RELU6>(g, x, mean, scale, shift) - k2 - (x - mean) * k3);
}

// The constants of the input gradient and the weight and bias gradients. The
// constants are laid out per value: channels-last, repeated over k pixels (a
// run of k * C values starting at a pixel reads them from index 0), so that
// the loops over them stay long when C is small; NCHW, one per channel (k = 1).
struct BatchNormGrad {
  bool relu6;
  int64_t C, k;
  std::vector<float> mean, scale, shift, k1, k2, k3;
  at::Tensor grad_weight, grad_bias;
};

// The sums over the batch of the gradient `grad` of batch norm (+ ReLU6) at
// input `x` (float32, channels-last or NCHW); `scale` is forward's.
BatchNormGrad batch_norm_grad_sums(const at::Tensor& grad, const at::Tensor& x,
                                   const at::Tensor& mean, const at::Tensor& invstd,
                                   const at::Tensor& scale, const at::Tensor& weight,
                                   const at::Tensor& bias, bool relu6, bool channels_last);

// The input gradient of `pixels` consecutive channels-last pixels (C values each).
void batch_norm_grad_input_pixels(const BatchNormGrad& G, const float* grad, const float* x,
                                  float* out, int64_t pixels);
