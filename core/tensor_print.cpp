#include "core/tensor_print.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <vector>

namespace mrnn {

namespace {

struct Printer {
  const std::vector<double>& values;  // row-major copy of the tensor
  const Shape& shape;
  bool floating, summarise, scientific;
  int64_t edge;
  int precision;
  size_t width = 0;

  std::string format(double x) const {
    if (std::isnan(x)) return "nan";
    if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
    char buf[64];
    if (!floating) std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(x));
    else if (scientific) std::snprintf(buf, sizeof buf, "%.*e", precision, x);
    else std::snprintf(buf, sizeof buf, "%.*f", precision, x);
    return buf;
  }

  // Indices of dim d that are shown (-1 marks the "..." gap).
  std::vector<int64_t> shown(int64_t n) const {
    std::vector<int64_t> idx;
    if (!summarise || n <= 2 * edge) {
      for (int64_t i = 0; i < n; ++i) idx.push_back(i);
      return idx;
    }
    for (int64_t i = 0; i < edge; ++i) idx.push_back(i);
    idx.push_back(-1);
    for (int64_t i = n - edge; i < n; ++i) idx.push_back(i);
    return idx;
  }

  void collect_width(size_t d, int64_t base) {
    if (d == shape.size()) {
      width = std::max(width, format(values[static_cast<size_t>(base)]).size());
      return;
    }
    int64_t stride = 1;
    for (size_t k = d + 1; k < shape.size(); ++k) stride *= shape[k];
    for (int64_t i : shown(shape[d]))
      if (i >= 0) collect_width(d + 1, base + i * stride);
  }

  void print(std::string& out, size_t d, int64_t base, size_t indent) const {
    if (d == shape.size()) {
      std::string s = format(values[static_cast<size_t>(base)]);
      out += std::string(width - s.size(), ' ') + s;
      return;
    }
    int64_t stride = 1;
    for (size_t k = d + 1; k < shape.size(); ++k) stride *= shape[k];
    out += '[';
    bool first = true;
    for (int64_t i : shown(shape[d])) {
      if (!first) {
        out += ',';
        if (d + 1 == shape.size()) out += ' ';
        else out += std::string(shape.size() - d - 1, '\n') + std::string(indent + 1, ' ');
      }
      first = false;
      if (i < 0) out += "...";
      else print(out, d + 1, base + i * stride, indent + 1);
    }
    out += ']';
  }
};

}  // namespace

std::string to_string(const Tensor& t, const PrintOptions& options) {
  if (!t.defined()) return "tensor(undefined)";
  Tensor host = t.device().is_cpu() ? t.detach() : t.detach().to(Device::cpu());
  std::vector<double> values = host.to(DType::F64).to_vector<double>();
  const bool floating = is_floating(t.dtype());
  double lo = INFINITY, hi = 0;
  for (double x : values)
    if (std::isfinite(x) && x != 0) {
      lo = std::min(lo, std::fabs(x));
      hi = std::max(hi, std::fabs(x));
    }
  const bool scientific = floating && hi > 0 && (hi / lo > 1e5 || hi >= 1e8 || lo < 1e-4);
  const Shape& shape = t.shape();
  Printer p{values, shape, floating, t.numel() > options.threshold, scientific, std::max<int64_t>(1, options.edge),
            std::max(0, options.precision)};
  std::string out = "tensor(";
  if (t.numel() == 0) {
    out += "[]";
  } else {
    p.collect_width(0, 0);
    p.print(out, 0, 0, 7);  // 7 = strlen("tensor(")
  }
  out += ", shape=" + shape_str(shape) + ", dtype=" + dtype_name(t.dtype());
  if (!t.device().is_cpu()) out += ", device=" + t.device().str();
  if (t.requires_grad()) out += ", requires_grad";
  return out + ")";
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << to_string(t); }

}  // namespace mrnn
