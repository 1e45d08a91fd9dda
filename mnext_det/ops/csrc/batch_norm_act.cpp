// Training-mode batch norm, optionally followed by ReLU6, for float32 CPU
// tensors in channels-last (NHWC) or contiguous (NCHW) layout: one pass for
// the batch statistics and one for the output; backward one pass for the two
// per-channel sums and one for the input gradient. Backward reads the
// gradient and the input only: the ReLU6 mask (0 < v < 6) is taken from the
// pre-activation v = fma(x - mean, scale, shift), computed again from the
// input by the same single-rounding expression as in forward, so it is
// exactly the clip forward applied, without reading the output.
//
// NHWC: the [M, C] rows are walked k at a time as "super-rows" of K = k * C
// values (K >= 256), so that the inner loops stay long and vectorised when C
// is small; per-channel constants are repeated k times and the K partial
// sums folded back onto the C channels at the end.
// Sums run in float over short runs and in double across them, of x minus the
// channel's first value (no cancellation when the mean is large against the
// spread); per-thread partial sums are added in thread order, so a result
// depends on the thread count only, not on scheduling. Each float accumulator
// belongs to one position of a row or run, so the order of every sum is the
// code's, not the vectoriser's: the same whether a loop vectorises, at any
// width, or not, and alike in the loops with and without ReLU6.
#include "batch_norm_grad.h"
#include "ops.h"

#include <ATen/Parallel.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <vector>

namespace {

constexpr int64_t kMinRow = 256;  // values per NHWC super-row, at least
constexpr int64_t kRun = 64;      // rows (NHWC) or runs (NCHW) summed in float before double
constexpr int64_t kPlaneRun = 256;  // NCHW: a plane is walked in runs of this many values

struct Layout {
  bool nhwc;
  int64_t N, C, S, M;  // S = H * W, M = N * S
  // NHWC super-rows
  int64_t k, K, rows;
  Layout(const at::Tensor& x, bool channels_last)
      : nhwc(channels_last), N(x.size(0)), C(x.size(1)), S(x.numel() / (x.size(0) * x.size(1))),
        M(N * S) {
    k = std::max<int64_t>(1, (kMinRow + C - 1) / C);
    K = k * C;
    rows = (M + k - 1) / k;
  }
  int64_t row_len(int64_t r) const { return std::min(K, (M - r * k) * C); }
  std::vector<float> repeat(const std::vector<float>& v) const {
    std::vector<float> out(K);
    for (int64_t j = 0; j < K; ++j) out[j] = v[j % C];
    return out;
  }
  // per-channel constants laid out as the inner loops read them: NHWC repeated to K
  void per_value(std::initializer_list<std::vector<float>*> constants) const {
    if (nhwc)
      for (std::vector<float>* v : constants) *v = repeat(*v);
  }
};

inline float clip6(float v) { return v < 0.f ? 0.f : (v > 6.f ? 6.f : v); }

// Per-channel sums s0, s1 of what the callbacks add into float accumulators,
// one per position of a contiguous stretch of values: NHWC row(off, len, f0[K],
// f1[K]) over one super-row, NCHW plane(off, len, c, f0[len], f1[len]) over one
// run of a plane.
template <typename RowFn, typename PlaneFn>
void channel_sums(const Layout& L, double* s0, double* s1, RowFn row, PlaneFn plane) {
  const int nt = at::get_num_threads();
  std::fill(s0, s0 + L.C, 0.0);
  std::fill(s1, s1 + L.C, 0.0);
  if (L.nhwc) {
    const int64_t run = std::max<int64_t>(1, kRun / L.k);
    std::vector<double> parts(static_cast<size_t>(2 * nt * L.K), 0.0);
#pragma omp parallel num_threads(nt)
    {
      const int t = omp_get_thread_num();
      double* p0 = parts.data() + 2 * t * L.K;
      double* p1 = p0 + L.K;
      std::vector<float> f0(L.K), f1(L.K);
#pragma omp for schedule(static)
      for (int64_t r0 = 0; r0 < L.rows; r0 += run) {
        std::fill(f0.begin(), f0.end(), 0.f);
        std::fill(f1.begin(), f1.end(), 0.f);
        for (int64_t r = r0; r < std::min(L.rows, r0 + run); ++r)
          row(r * L.K, L.row_len(r), f0.data(), f1.data());
        for (int64_t j = 0; j < L.K; ++j) {
          p0[j] += f0[j];
          p1[j] += f1[j];
        }
      }
    }
    for (int t = 0; t < nt; ++t)
      for (int64_t j = 0; j < L.K; ++j) {
        s0[j % L.C] += parts[2 * t * L.K + j];
        s1[j % L.C] += parts[2 * t * L.K + L.K + j];
      }
  } else {
    const int64_t width = std::min(L.S, kPlaneRun);
#pragma omp parallel num_threads(nt)
    {
      std::vector<float> f0(width), f1(width);
#pragma omp for schedule(static)
      for (int64_t c = 0; c < L.C; ++c) {
        double d0 = 0.0, d1 = 0.0;
        int64_t runs = 0;
        auto flush = [&] {
          for (int64_t j = 0; j < width; ++j) {
            d0 += f0[j];
            d1 += f1[j];
          }
          std::fill(f0.begin(), f0.end(), 0.f);
          std::fill(f1.begin(), f1.end(), 0.f);
        };
        for (int64_t n = 0; n < L.N; ++n)
          for (int64_t b = 0; b < L.S; b += kPlaneRun) {
            plane((n * L.C + c) * L.S + b, std::min(L.S - b, kPlaneRun), c, f0.data(),
                  f1.data());
            if (++runs == kRun) {
              flush();
              runs = 0;
            }
          }
        flush();
        s0[c] = d0;
        s1[c] = d1;
      }
    }
  }
}

// Every value once, in parallel: NHWC row(off, len) over one super-row (its
// constants repeated to K), NCHW plane(off, len, c) over one plane.
template <typename RowFn, typename PlaneFn>
void map_values(const Layout& L, RowFn row, PlaneFn plane) {
  const int nt = at::get_num_threads();
  if (L.nhwc) {
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t r = 0; r < L.rows; ++r) row(r * L.K, L.row_len(r));
  } else {
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t p = 0; p < L.N * L.C; ++p) plane(p * L.S, L.S, p % L.C);
  }
}

// The output, clipped to [0, 6] with RELU6: per-channel constants as
// Layout::per_value lays them out.
template <bool RELU6>
void write_output(const Layout& L, const float* xp, const float* ce, const float* sc,
                  const float* sh, float* yp) {
  auto out = [](float v) { return RELU6 ? clip6(v) : v; };
  map_values(
      L,
      [&](int64_t off, int64_t len) {
        const float* r = xp + off;
        float* o = yp + off;
#pragma omp simd
        for (int64_t j = 0; j < len; ++j) o[j] = out(pre_activation(r[j], ce[j], sc[j], sh[j]));
      },
      [&](int64_t off, int64_t len, int64_t c) {
        const float m = ce[c], a = sc[c], b = sh[c];
        const float* r = xp + off;
        float* o = yp + off;
#pragma omp simd
        for (int64_t j = 0; j < len; ++j) o[j] = out(pre_activation(r[j], m, a, b));
      });
}

}  // namespace

// Returns (y, mean, invstd, scale) and updates running_mean / running_var in
// place; scale = invstd * weight as the output was computed with it.
std::vector<at::Tensor> batch_norm_act_forward(const at::Tensor& x, const at::Tensor& weight,
                                               const at::Tensor& bias, at::Tensor running_mean,
                                               at::Tensor running_var, double momentum, double eps,
                                               bool relu6, bool channels_last) {
  const Layout L(x, channels_last);
  const int64_t C = L.C, M = L.M;
  const float* xp = x.data_ptr<float>();
  std::vector<float> first(C);
  for (int64_t c = 0; c < C; ++c) first[c] = xp[L.nhwc ? c : c * L.S];
  std::vector<float> first_k = first;
  L.per_value({&first_k});
  const float* k0 = first_k.data();
  std::vector<double> sum(C), ssq(C);
  channel_sums(
      L, sum.data(), ssq.data(),
      [&](int64_t off, int64_t len, float* f0, float* f1) {
        const float* r = xp + off;
#pragma omp simd
        for (int64_t j = 0; j < len; ++j) {
          const float d = r[j] - k0[j];
          f0[j] += d;
          f1[j] += d * d;
        }
      },
      [&](int64_t off, int64_t len, int64_t c, float* f0, float* f1) {
        const float* r = xp + off;
        const float k = k0[c];
#pragma omp simd
        for (int64_t j = 0; j < len; ++j) {
          const float d = r[j] - k;
          f0[j] += d;
          f1[j] += d * d;
        }
      });
  auto mean = at::empty({C}, x.options());
  auto invstd = at::empty({C}, x.options());
  auto scale_out = at::empty({C}, x.options());
  // y = (x - mean) * (invstd * w) + b: a channel of equal values gives exactly b
  std::vector<float> centre(C), scale(C), shift(C);
  float *mp = mean.data_ptr<float>(), *ip = invstd.data_ptr<float>();
  float* so = scale_out.data_ptr<float>();
  float *rm = running_mean.data_ptr<float>(), *rv = running_var.data_ptr<float>();
  const float *wp = weight.data_ptr<float>(), *bp = bias.data_ptr<float>();
  for (int64_t c = 0; c < C; ++c) {
    const double dm = sum[c] / M;
    const double mu = first[c] + dm;
    const double var = std::max(ssq[c] / M - dm * dm, 0.0);
    const double is = 1.0 / std::sqrt(var + eps);
    mp[c] = static_cast<float>(mu);
    ip[c] = static_cast<float>(is);
    centre[c] = mp[c];
    scale[c] = so[c] = static_cast<float>(is * wp[c]);
    shift[c] = bp[c];
    rm[c] = static_cast<float>((1.0 - momentum) * rm[c] + momentum * mu);
    rv[c] = static_cast<float>((1.0 - momentum) * rv[c] + momentum * var * M / (M - 1));
  }
  L.per_value({&centre, &scale, &shift});
  auto y = at::empty_like(x);
  float* yp = y.data_ptr<float>();
  const float *ce = centre.data(), *sc = scale.data(), *sh = shift.data();
  (relu6 ? write_output<true> : write_output<false>)(L, xp, ce, sc, sh, yp);
  return {y, mean, invstd, scale_out};
}

namespace {

// The per-channel sums of the backward into G's gradients and its constants k1, k2, k3;
// G's mean, scale and shift laid out per value already.
template <bool RELU6>
void grad_sums(const Layout& L, const float* gp, const float* xp, const float* ip,
               const float* wp, BatchNormGrad& G) {
  const float *mk = G.mean.data(), *sk = G.scale.data(), *hk = G.shift.data();
  std::vector<double> sg(L.C), sgx(L.C);
  channel_sums(
      L, sg.data(), sgx.data(),
      [&](int64_t off, int64_t len, float* f0, float* f1) {
        const float *xr = xp + off, *gr = gp + off;
#pragma omp simd
        for (int64_t j = 0; j < len; ++j) {
          const float g = masked<RELU6>(gr[j], xr[j], mk[j], sk[j], hk[j]);
          f0[j] += g;
          f1[j] += g * (xr[j] - mk[j]);
        }
      },
      [&](int64_t off, int64_t len, int64_t c, float* f0, float* f1) {
        const float *xr = xp + off, *gr = gp + off;
        const float mu = mk[c], a = sk[c], b = hk[c];
#pragma omp simd
        for (int64_t j = 0; j < len; ++j) {
          const float g = masked<RELU6>(gr[j], xr[j], mu, a, b);
          f0[j] += g;
          f1[j] += g * (xr[j] - mu);
        }
      });
  float *gwp = G.grad_weight.data_ptr<float>(), *gbp = G.grad_bias.data_ptr<float>();
  G.k1.resize(L.C);
  G.k2.resize(L.C);
  G.k3.resize(L.C);
  for (int64_t c = 0; c < L.C; ++c) {
    gbp[c] = static_cast<float>(sg[c]);
    gwp[c] = static_cast<float>(sgx[c] * ip[c]);
    G.k1[c] = wp[c] * ip[c];
    G.k2[c] = static_cast<float>(sg[c] / L.M);
    G.k3[c] = static_cast<float>(sgx[c] / L.M * ip[c] * ip[c]);
  }
  L.per_value({&G.k1, &G.k2, &G.k3});
}

// `len` (at most k * C) values from the start of a pixel on, channels-last.
template <bool RELU6>
inline void grad_input_run(const BatchNormGrad& G, const float* gr, const float* xr, float* o,
                           int64_t len) {
  const float *mk = G.mean.data(), *sk = G.scale.data(), *hk = G.shift.data();
  const float *a1 = G.k1.data(), *a2 = G.k2.data(), *a3 = G.k3.data();
#pragma omp simd
  for (int64_t j = 0; j < len; ++j)
    o[j] = batch_norm_grad_input<RELU6>(gr[j], xr[j], mk[j], sk[j], hk[j], a1[j], a2[j], a3[j]);
}

template <bool RELU6>
void write_grad_input(const Layout& L, const BatchNormGrad& G, const float* gp, const float* xp,
                      float* op) {
  map_values(
      L,
      [&](int64_t off, int64_t len) {
        grad_input_run<RELU6>(G, gp + off, xp + off, op + off, len);
      },
      [&](int64_t off, int64_t len, int64_t c) {
        const float b1 = G.k1[c], b2 = G.k2[c], b3 = G.k3[c];
        const float mu = G.mean[c], a = G.scale[c], b = G.shift[c];
        const float *xr = xp + off, *gr = gp + off;
        float* o = op + off;
#pragma omp simd
        for (int64_t j = 0; j < len; ++j)
          o[j] = batch_norm_grad_input<RELU6>(gr[j], xr[j], mu, a, b, b1, b2, b3);
      });
}

}  // namespace

// grad_input = w * invstd * (g - mean(g) - (x - mean) * invstd^2 * mean(g * (x - mean))):
// k1 = w * invstd, k2 = mean(g), k3 = invstd^2 * mean(g * (x - mean)).
BatchNormGrad batch_norm_grad_sums(const at::Tensor& grad, const at::Tensor& x,
                                   const at::Tensor& mean, const at::Tensor& invstd,
                                   const at::Tensor& scale, const at::Tensor& weight,
                                   const at::Tensor& bias, bool relu6, bool channels_last) {
  const Layout L(x, channels_last);
  const int64_t C = L.C;
  auto values = [C](const at::Tensor& t) {
    return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + C);
  };
  BatchNormGrad G{relu6, C, L.nhwc ? L.k : 1, values(mean), values(scale), values(bias),
                  {}, {}, {}, at::empty({C}, x.options()), at::empty({C}, x.options())};
  L.per_value({&G.mean, &G.scale, &G.shift});
  (relu6 ? grad_sums<true> : grad_sums<false>)(L, grad.data_ptr<float>(), x.data_ptr<float>(),
                                               invstd.data_ptr<float>(),
                                               weight.data_ptr<float>(), G);
  return G;
}

void batch_norm_grad_input_pixels(const BatchNormGrad& G, const float* grad, const float* x,
                                  float* out, int64_t pixels) {
  for (int64_t p = 0; p < pixels; p += G.k) {
    const int64_t off = p * G.C, len = std::min(G.k, pixels - p) * G.C;
    (G.relu6 ? grad_input_run<true> : grad_input_run<false>)(G, grad + off, x + off, out + off,
                                                             len);
  }
}

// Returns (grad_input, grad_weight, grad_bias); `scale` is forward's, and
// with `bias` gives the pre-activation for the ReLU6 mask.
std::vector<at::Tensor> batch_norm_act_backward(const at::Tensor& grad, const at::Tensor& x,
                                                const at::Tensor& mean, const at::Tensor& invstd,
                                                const at::Tensor& scale, const at::Tensor& weight,
                                                const at::Tensor& bias, bool relu6,
                                                bool channels_last) {
  const Layout L(x, channels_last);
  const BatchNormGrad G =
      batch_norm_grad_sums(grad, x, mean, invstd, scale, weight, bias, relu6, channels_last);
  auto grad_input = at::empty_like(x);
  (relu6 ? write_grad_input<true> : write_grad_input<false>)(
      L, G, grad.data_ptr<float>(), x.data_ptr<float>(), grad_input.data_ptr<float>());
  return {grad_input, G.grad_weight, G.grad_bias};
}
