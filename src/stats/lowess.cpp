#include "stats/lowess.h"

#include <algorithm>
#include <cmath>

#include "stats/detail.h"

namespace cervirisk::stats {

namespace {

double cube(double v) { return v * v * v; }
double square(double v) { return v * v; }

// Local weighted linear fit at xs using points nleft..nright (1-based, inclusive; ties to the
// right are picked up). Returns false when all weights are zero.
bool lowest(const double* x, const double* y, int n, double xs, double* ys, int nleft, int nright, double* w,
            bool userw, const double* rw) {
  // 1-based views
  --x;
  --y;
  --w;
  --rw;
  const double range = x[n] - x[1];
  const double h = std::max(xs - x[nleft], x[nright] - xs);
  const double h9 = 0.999 * h, h1 = 0.001 * h;
  double a = 0;
  int j = nleft;
  while (j <= n) {
    w[j] = 0;
    const double r = std::fabs(x[j] - xs);
    if (r <= h9) {
      w[j] = r <= h1 ? 1.0 : cube(1 - cube(r / h));
      if (userw) w[j] *= rw[j];
      a += w[j];
    } else if (x[j] > xs) {
      break;
    }
    ++j;
  }
  const int nrt = j - 1;
  if (a <= 0) return false;
  for (j = nleft; j <= nrt; ++j) w[j] /= a;
  if (h > 0) {
    a = 0;
    for (j = nleft; j <= nrt; ++j) a += w[j] * x[j];
    double b = xs - a, c = 0;
    for (j = nleft; j <= nrt; ++j) c += w[j] * (x[j] - a) * (x[j] - a);
    if (std::sqrt(c) > 0.001 * range) {
      b /= c;
      for (j = nleft; j <= nrt; ++j) w[j] *= (b * (x[j] - a) + 1.0);
    }
  }
  double s = 0;
  for (j = nleft; j <= nrt; ++j) s += w[j] * y[j];
  *ys = s;
  return true;
}

}  // namespace

LowessCurve lowess(const std::vector<double>& x_in, const std::vector<double>& y_in, double f, int nsteps,
                   double delta) {
  const char* fn = "lowess";
  detail::check_same_size(fn, x_in.size(), y_in.size(), "x", "y");
  detail::check_finite(fn, x_in, "x");
  detail::check_finite(fn, y_in, "y");
  if (x_in.empty()) detail::fail(fn, "no observations");
  if (!(f > 0)) detail::fail(fn, "f must be > 0");
  if (nsteps < 0) detail::fail(fn, "iter must be >= 0");
  const int n = static_cast<int>(x_in.size());
  std::vector<std::size_t> o = detail::order(x_in);
  LowessCurve out;
  out.x.resize(n);
  std::vector<double> yv(n);
  for (int i = 0; i < n; ++i) {
    out.x[i] = x_in[o[i]];
    yv[i] = y_in[o[i]];
  }
  if (delta < 0) delta = 0.01 * (out.x[n - 1] - out.x[0]);
  out.y.assign(n, 0.0);
  if (n < 2) {
    out.y[0] = yv[0];
    return out;
  }
  std::vector<double> rw(n, 0.0), res(n, 0.0);
  const double* x = out.x.data() - 1;  // 1-based
  const double* y = yv.data() - 1;
  double* ys = out.y.data() - 1;
  const int ns = std::max(2, std::min(n, static_cast<int>(f * n + 1e-7)));
  for (int iter = 1; iter <= nsteps + 1; ++iter) {
    int nleft = 1, nright = ns, last = 0, i = 1;
    for (;;) {
      if (nright < n) {
        const double d1 = x[i] - x[nleft], d2 = x[nright + 1] - x[i];
        if (d1 > d2) {
          ++nleft;
          ++nright;
          continue;
        }
      }
      if (!lowest(out.x.data(), yv.data(), n, x[i], &ys[i], nleft, nright, res.data(), iter > 1, rw.data()))
        ys[i] = y[i];
      if (last < i - 1) {
        const double denom = x[i] - x[last];
        for (int j = last + 1; j < i; ++j) {
          const double alpha = (x[j] - x[last]) / denom;
          ys[j] = alpha * ys[i] + (1 - alpha) * ys[last];
        }
      }
      last = i;
      const double cut = x[last] + delta;
      for (i = last + 1; i <= n; ++i) {
        if (x[i] > cut) break;
        if (x[i] == x[last]) {
          ys[i] = ys[last];
          last = i;
        }
      }
      i = std::max(last + 1, i - 1);
      if (last >= n) break;
    }
    for (int k = 0; k < n; ++k) res[k] = yv[k] - out.y[k];
    double sc = 0;
    for (int k = 0; k < n; ++k) sc += std::fabs(res[k]);
    sc /= n;
    if (iter > nsteps) break;
    for (int k = 0; k < n; ++k) rw[k] = std::fabs(res[k]);
    const int m1 = n / 2;
    std::nth_element(rw.begin(), rw.begin() + m1, rw.end());
    double cmad;
    if (n % 2 == 0) {
      const int m2 = n - m1 - 1;
      const double v1 = rw[m1];
      std::nth_element(rw.begin(), rw.begin() + m2, rw.end());
      cmad = 3.0 * (v1 + rw[m2]);
    } else {
      cmad = 6.0 * rw[m1];
    }
    if (cmad < 1e-7 * sc) break;
    const double c9 = 0.999 * cmad, c1 = 0.001 * cmad;
    for (int k = 0; k < n; ++k) {
      const double r = std::fabs(res[k]);
      rw[k] = r <= c1 ? 1.0 : (r <= c9 ? square(1 - square(r / cmad)) : 0.0);
    }
  }
  return out;
}

}  // namespace cervirisk::stats
