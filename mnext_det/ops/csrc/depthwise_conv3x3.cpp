// 3x3 depthwise convolution with zero padding 1, stride 1 or 2, dilation 1
// and no bias, on float32 channels-last (NHWC) CPU tensors: forward, input
// gradient and weight gradient. One output row of one image at a time, in
// vectors of 8 channels whose 9 taps stay in registers; four output columns
// at once in the interior of a row, so that their sums run side by side.
// Rows above and below the image read a row of zeros, columns beyond it are
// skipped. Backward walks the output rows once, computing each row's input
// gradient and weight gradient together, so the gradient is read from memory
// once. depthwise_conv3x3_bn_act_backward runs the same backward on the
// gradient of the batch norm that follows the conv: it computes the conv's
// output gradient a stretch of rows at a time into a buffer (batch_norm_grad.h)
// instead of reading it from memory.
//
// Every output and input-gradient value is the sum of its taps in a fixed
// order, computed by one thread, so it does not depend on the thread count.
// The weight gradient sums each output row in float and the rows in double,
// per thread over a fixed split of the rows, then across threads in thread
// order: it depends on the thread count only, not on scheduling.
#include "batch_norm_grad.h"
#include "ops.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

namespace {

typedef float v8 __attribute__((vector_size(32), aligned(4)));  // unaligned loads and stores
constexpr int64_t kLanes = 8;
constexpr int kUnroll = 4;  // interior output columns summed side by side

inline v8 load(const float* p) { return *reinterpret_cast<const v8*>(p); }
inline void store(float* p, v8 v) { *reinterpret_cast<v8*>(p) = v; }
inline v8 zeros8() { return v8{0, 0, 0, 0, 0, 0, 0, 0}; }

struct Shape {
  int64_t N, C, H, W, OH, OW;
};

Shape conv_shape(const at::Tensor& x, int64_t stride) {
  const int64_t H = x.size(2), W = x.size(3);
  return {x.size(0), x.size(1), H, W, (H - 1) / stride + 1, (W - 1) / stride + 1};
}

// [C, 1, 3, 3] weights as [9][C], taps first (flipped: tap k holds 8 - k)
std::vector<float> taps_first(const at::Tensor& weight, int64_t C, bool flipped) {
  const at::Tensor w = weight.contiguous();
  const float* p = w.data_ptr<float>();
  std::vector<float> taps(9 * C);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t k = 0; k < 9; ++k) taps[(flipped ? 8 - k : k) * C + c] = p[c * 9 + k];
  return taps;
}

// The rows of one image of an [N, H, W, C] array.
struct ImageRows {
  const float* image;
  int64_t row_len;
  const float* row(int64_t i) const { return image + i * row_len; }
};

// The three rows ih0 .. ih0 + 2 of `src`, an image of H rows (anything with
// `row(i)`); rows outside it point at `zero_row`.
template <typename Rows>
void three_rows(const Rows& src, const float* zero_row, int64_t H, int64_t ih0,
                const float* rows[3]) {
  for (int kh = 0; kh < 3; ++kh) {
    const int64_t ih = ih0 + kh;
    rows[kh] = (ih < 0 || ih >= H) ? zero_row : src.row(ih);
  }
}

// The same of image n of the [N, H, W, C] array x.
void three_rows(const float* x, const float* zero_row, int64_t H, int64_t W, int64_t C,
                int64_t n, int64_t ih0, const float* rows[3]) {
  three_rows(ImageRows{x + n * H * W * C, W * C}, zero_row, H, ih0, rows);
}

// Last output column + 1 whose window ow * s - 1 .. ow * s + 1 lies inside [0, W).
inline int64_t interior_end(int64_t W, int64_t OW, int64_t s) {
  return W < 2 ? 0 : std::min(OW, (W - 2) / s + 1);
}

// One output row: out[ow] = sum over (kh, kw) of rows[kh][ow * s - 1 + kw] * taps[kh * 3 + kw],
// columns outside [0, W) skipped.
void conv_row(const float* const rows[3], const float* taps, float* out, int64_t W, int64_t OW,
              int64_t C, int64_t s) {
  const int64_t vec_end = C / kLanes * kLanes, inner_end = interior_end(W, OW, s);
  for (int64_t cb = 0; cb < vec_end; cb += kLanes) {
    v8 w[9];
    for (int k = 0; k < 9; ++k) w[k] = load(taps + k * C + cb);
    auto border = [&](int64_t ow) {
      v8 acc = zeros8();
      for (int kh = 0; kh < 3; ++kh)
        for (int kw = 0; kw < 3; ++kw) {
          const int64_t iw = ow * s - 1 + kw;
          if (iw >= 0 && iw < W) acc += load(rows[kh] + iw * C + cb) * w[kh * 3 + kw];
        }
      store(out + ow * C + cb, acc);
    };
    int64_t ow = 0;
    if (OW > 0) border(ow++);
    for (; ow + kUnroll <= inner_end; ow += kUnroll) {
      v8 acc[kUnroll];
      for (int u = 0; u < kUnroll; ++u) acc[u] = zeros8();
      for (int kh = 0; kh < 3; ++kh) {
        const float* r = rows[kh] + (ow * s - 1) * C + cb;
        for (int kw = 0; kw < 3; ++kw)
          for (int u = 0; u < kUnroll; ++u) acc[u] += load(r + (u * s + kw) * C) * w[kh * 3 + kw];
      }
      for (int u = 0; u < kUnroll; ++u) store(out + (ow + u) * C + cb, acc[u]);
    }
    for (; ow < OW; ++ow) border(ow);
  }
  for (int64_t c = vec_end; c < C; ++c)
    for (int64_t ow = 0; ow < OW; ++ow) {
      float acc = 0.f;
      for (int kh = 0; kh < 3; ++kh)
        for (int kw = 0; kw < 3; ++kw) {
          const int64_t iw = ow * s - 1 + kw;
          if (iw >= 0 && iw < W) acc += rows[kh][iw * C + c] * taps[(kh * 3 + kw) * C + c];
        }
      out[ow * C + c] = acc;
    }
}

at::Tensor empty_nhwc(const at::Tensor& like, int64_t N, int64_t C, int64_t H, int64_t W) {
  return at::empty({N, C, H, W}, like.options().memory_format(at::MemoryFormat::ChannelsLast));
}

// Stride 2, one input row ih of the input gradient (of the image whose output-gradient
// rows `grad.row(oh)` gives): kh = 1 reaches it from output row
// ih / 2 when ih is even; kh = 0 from (ih + 1) / 2 and kh = 2 from (ih - 1) / 2 when it
// is odd (where those rows exist); columns likewise with kw.
template <typename GradRows>
void input_grad_row_stride2(const GradRows& grad, const float* taps, float* out, int64_t ih,
                            int64_t OH, int64_t OW, int64_t W, int64_t C) {
  int kh_of[2];
  const float* grow[2];
  int nk = 0;
  for (int kh = 0; kh < 3; ++kh) {
    const int64_t t = ih + 1 - kh;
    if (t < 0 || (t & 1) || t / 2 >= OH) continue;
    kh_of[nk] = kh;
    grow[nk++] = grad.row(t / 2);
  }
  const int64_t vec_end = C / kLanes * kLanes;
  for (int64_t cb = 0; cb < vec_end; cb += kLanes) {
    v8 w[2][3];
    for (int a = 0; a < nk; ++a)
      for (int kw = 0; kw < 3; ++kw) w[a][kw] = load(taps + (kh_of[a] * 3 + kw) * C + cb);
    for (int64_t iw = 0; iw < W; ++iw) {
      v8 acc = zeros8();
      if (!(iw & 1)) {
        for (int a = 0; a < nk; ++a) acc += load(grow[a] + iw / 2 * C + cb) * w[a][1];
      } else {
        const int64_t right = (iw + 1) / 2, left = (iw - 1) / 2;
        for (int a = 0; a < nk; ++a) {
          if (right < OW) acc += load(grow[a] + right * C + cb) * w[a][0];
          acc += load(grow[a] + left * C + cb) * w[a][2];
        }
      }
      store(out + iw * C + cb, acc);
    }
  }
  for (int64_t c = vec_end; c < C; ++c)
    for (int64_t iw = 0; iw < W; ++iw) {
      float acc = 0.f;
      for (int a = 0; a < nk; ++a)
        for (int kw = 0; kw < 3; ++kw) {
          const int64_t t = iw + 1 - kw;
          if (t < 0 || (t & 1) || t / 2 >= OW) continue;
          acc += grow[a][t / 2 * C + c] * taps[(kh_of[a] * 3 + kw) * C + c];
        }
      out[iw * C + c] = acc;
    }
}

// Adds the weight gradient of one output row, sum over ow of
// grad[ow] * rows[kh][ow * s - 1 + kw], into sums[(kh * 3 + kw) * C + c].
void weight_grad_row(const float* const rows[3], const float* grad, double* sums, int64_t W,
                     int64_t OW, int64_t C, int64_t s) {
  const int64_t vec_end = C / kLanes * kLanes, inner_end = interior_end(W, OW, s);
  for (int64_t cb = 0; cb < vec_end; cb += kLanes) {
    v8 acc[9];
    for (int k = 0; k < 9; ++k) acc[k] = zeros8();
    auto border = [&](int64_t ow) {
      const v8 g = load(grad + ow * C + cb);
      for (int kh = 0; kh < 3; ++kh)
        for (int kw = 0; kw < 3; ++kw) {
          const int64_t iw = ow * s - 1 + kw;
          if (iw >= 0 && iw < W) acc[kh * 3 + kw] += load(rows[kh] + iw * C + cb) * g;
        }
    };
    int64_t ow = 0;
    if (OW > 0) border(ow++);
    for (; ow < inner_end; ++ow) {
      const v8 g = load(grad + ow * C + cb);
      for (int kh = 0; kh < 3; ++kh) {
        const float* r = rows[kh] + (ow * s - 1) * C + cb;
        for (int kw = 0; kw < 3; ++kw) acc[kh * 3 + kw] += load(r + kw * C) * g;
      }
    }
    for (; ow < OW; ++ow) border(ow);
    for (int k = 0; k < 9; ++k)
      for (int64_t l = 0; l < kLanes; ++l) sums[k * C + cb + l] += acc[k][l];
  }
  for (int64_t c = vec_end; c < C; ++c) {
    float acc[9] = {};
    for (int64_t ow = 0; ow < OW; ++ow) {
      const float g = grad[ow * C + c];
      for (int kh = 0; kh < 3; ++kh)
        for (int kw = 0; kw < 3; ++kw) {
          const int64_t iw = ow * s - 1 + kw;
          if (iw >= 0 && iw < W) acc[kh * 3 + kw] += rows[kh][iw * C + c] * g;
        }
    }
    for (int k = 0; k < 9; ++k) sums[k * C + c] += acc[k];
  }
}

}  // namespace

at::Tensor depthwise_conv3x3_forward(const at::Tensor& x, const at::Tensor& weight,
                                     int64_t stride) {
  const Shape S = conv_shape(x, stride);
  at::Tensor out = empty_nhwc(x, S.N, S.C, S.OH, S.OW);
  const std::vector<float> taps = taps_first(weight, S.C, false);
  const std::vector<float> zero_row(S.W * S.C, 0.f);
  const float* xp = x.data_ptr<float>();
  float* op = out.data_ptr<float>();
  at::parallel_for(0, S.N * S.OH, 1, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* rows[3];
      three_rows(xp, zero_row.data(), S.H, S.W, S.C, r / S.OH, r % S.OH * stride - 1, rows);
      conv_row(rows, taps.data(), op + r * S.OW * S.C, S.W, S.OW, S.C, stride);
    }
  });
  return out;
}

namespace {

// The output gradient's rows of one image, read from the tensor.
struct TensorRows {
  const float* grad;
  int64_t OH, row_len;
  ImageRows image{nullptr, 0};
  void prepare(int64_t n, int64_t, int64_t) { image = {grad + n * OH * row_len, row_len}; }
  const float* row(int64_t oh) const { return image.row(oh); }
};

// The output gradient's rows of one image computed from batch norm's output
// gradient and input (the conv's output), rows [oh0 - 1, oh1 + 1) of each
// stretch [oh0, oh1) into a per-thread buffer, so that it is never written to
// memory; every value by the same expression as batch norm's own backward.
struct BatchNormRows {
  const BatchNormGrad& G;
  const float *grad, *y;
  int64_t OH, OW, C;
  std::vector<float> buffer;
  int64_t lo = 0;
  void prepare(int64_t n, int64_t oh0, int64_t oh1) {
    lo = std::max<int64_t>(oh0 - 1, 0);
    const int64_t hi = std::min(oh1 + 1, OH), row_len = OW * C;
    buffer.resize((hi - lo) * row_len);
    const int64_t off = (n * OH + lo) * row_len;
    batch_norm_grad_input_pixels(G, grad + off, y + off, buffer.data(), (hi - lo) * OW);
  }
  const float* row(int64_t oh) const { return buffer.data() + (oh - lo) * OW * C; }
};

constexpr int64_t kStretchBytes = 256 << 10;  // BatchNormRows: a stretch's rows, about L2's

// Thread t takes the output rows [t * rows_total / threads, (t + 1) * rows_total / threads)
// in stretches of one image; for each output row, the input-gradient rows it ends (ih = oh,
// or 2 oh and 2 oh + 1), then the row's weight-gradient terms: the gradient row just read
// is still in cache for both.
template <typename MakeRows>
std::vector<at::Tensor> backward_impl(MakeRows make_rows, const at::Tensor& x,
                                      const at::Tensor& weight, int64_t stride, bool input_grad,
                                      bool weight_grad) {
  const Shape S = conv_shape(x, stride);
  const int64_t C = S.C, rows_total = S.N * S.OH;
  const int64_t stretch = std::max<int64_t>(4, kStretchBytes / (S.OW * C * 4));
  const float* xp = x.data_ptr<float>();
  at::Tensor grad_input = input_grad ? empty_nhwc(x, S.N, C, S.H, S.W) : at::Tensor();
  float* gip = input_grad ? grad_input.data_ptr<float>() : nullptr;
  // stride 1: the input gradient is the gradient convolved with the flipped kernel
  const std::vector<float> taps = taps_first(weight, C, stride == 1);
  const std::vector<float> zero_row(S.W * C, 0.f);  // OW <= W: wide enough for both
  const int threads = at::get_num_threads();
  std::vector<std::vector<double>> sums(weight_grad ? threads : 0);
  at::parallel_for(0, threads, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      if (weight_grad) sums[t].assign(9 * C, 0.0);
      auto grad = make_rows();  // a TensorRows or BatchNormRows of this thread
      const int64_t r_end = (t + 1) * rows_total / threads;
      for (int64_t r0 = t * rows_total / threads; r0 < r_end;) {
        const int64_t n = r0 / S.OH, oh0 = r0 % S.OH;
        const int64_t oh1 = std::min({S.OH, oh0 + stretch, oh0 + r_end - r0});
        grad.prepare(n, oh0, oh1);
        for (int64_t oh = oh0; oh < oh1; ++oh) {
          if (input_grad) {
            for (int64_t ih = oh * stride; ih < std::min(S.H, (oh + 1) * stride); ++ih) {
              float* out = gip + (n * S.H + ih) * S.W * C;
              if (stride == 1) {
                const float* rows[3];
                three_rows(grad, zero_row.data(), S.OH, ih - 1, rows);
                conv_row(rows, taps.data(), out, S.OW, S.W, C, 1);
              } else {
                input_grad_row_stride2(grad, taps.data(), out, ih, S.OH, S.OW, S.W, C);
              }
            }
          }
          if (weight_grad) {
            const float* rows[3];
            three_rows(xp, zero_row.data(), S.H, S.W, C, n, oh * stride - 1, rows);
            weight_grad_row(rows, grad.row(oh), sums[t].data(), S.W, S.OW, C, stride);
          }
        }
        r0 += oh1 - oh0;
      }
    }
  });
  at::Tensor grad_weight;
  if (weight_grad) {
    grad_weight = at::empty({C, 1, 3, 3}, x.options());
    float* op = grad_weight.data_ptr<float>();
    for (int64_t c = 0; c < C; ++c)
      for (int64_t k = 0; k < 9; ++k) {
        double total = 0.0;
        for (int t = 0; t < threads; ++t) total += sums[t][k * C + c];
        op[c * 9 + k] = static_cast<float>(total);
      }
  }
  return {grad_input, grad_weight};
}

}  // namespace

std::vector<at::Tensor> depthwise_conv3x3_backward(const at::Tensor& grad, const at::Tensor& x,
                                                   const at::Tensor& weight, int64_t stride,
                                                   bool input_grad, bool weight_grad) {
  const Shape S = conv_shape(x, stride);
  const float* gp = grad.data_ptr<float>();
  return backward_impl([&] { return TensorRows{gp, S.OH, S.OW * S.C}; }, x, weight, stride,
                       input_grad, weight_grad);
}

std::vector<at::Tensor> depthwise_conv3x3_bn_act_backward(
    const at::Tensor& grad, const at::Tensor& x, const at::Tensor& weight, const at::Tensor& y,
    const at::Tensor& mean, const at::Tensor& invstd, const at::Tensor& scale,
    const at::Tensor& bn_weight, const at::Tensor& bn_bias, int64_t stride, bool relu6,
    bool input_grad, bool weight_grad) {
  const BatchNormGrad G =
      batch_norm_grad_sums(grad, y, mean, invstd, scale, bn_weight, bn_bias, relu6, true);
  const Shape S = conv_shape(x, stride);
  const float *gp = grad.data_ptr<float>(), *yp = y.data_ptr<float>();
  std::vector<at::Tensor> out =
      backward_impl([&] { return BatchNormRows{G, gp, yp, S.OH, S.OW, S.C}; }, x, weight, stride,
                    input_grad, weight_grad);
  return {out[0], out[1], G.grad_weight, G.grad_bias};
}
