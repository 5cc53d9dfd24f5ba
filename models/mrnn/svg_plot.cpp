#include "models/mrnn/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstddef>
#include <limits>

#include <fmt/format.h>

#include "core/error.h"

namespace mrnn {

std::string xml_escape(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '&': o += "&amp;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o += c;
    }
  }
  return o;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  MRNN_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo <= hi, "nice_ticks: need finite lo <= hi, got [{}, {}]",
             lo, hi);
  MRNN_CHECK(target >= 2, "nice_ticks: need at least 2 ticks, got {}", target);
  if (hi - lo < 1e-12 * std::max(1.0, std::fabs(lo))) {  // one value: a small range around it
    const double d = lo == 0 ? 1.0 : std::fabs(lo) * 0.1;
    lo -= d;
    hi += d;
  }
  const double raw = (hi - lo) / (target - 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * mag;
  for (double m : {1.0, 2.0, 5.0})
    if (m * mag >= raw * (1 - 1e-9)) {
      step = m * mag;
      break;
    }
  const double first = std::floor(lo / step + 1e-9) * step, last = std::ceil(hi / step - 1e-9) * step;
  std::vector<double> t;
  for (int k = 0; first + k * step <= last + step * 1e-6; ++k) {
    double v = first + k * step;
    if (std::fabs(v) < step * 1e-9) v = 0;  // no "-0"
    t.push_back(v);
  }
  return t;
}

std::string tick_label(double v, double step) {
  const int decimals = step > 0 ? std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9))) : 0;
  return fmt::format("{:.{}f}", v, std::min(decimals, 9));
}

namespace {

struct Axis {
  std::vector<double> ticks;
  double lo = 0, hi = 1, step = 1;
};

Axis make_axis(double lo, double hi, bool from_zero, int target) {
  if (from_zero) {
    lo = std::min(lo, 0.0);
    hi = std::max(hi, 0.0);
  }
  Axis a;
  a.ticks = nice_ticks(lo, hi, target);
  a.lo = a.ticks.front();
  a.hi = a.ticks.back();
  a.step = a.ticks.size() > 1 ? a.ticks[1] - a.ticks[0] : 1;
  return a;
}

// A clip-path id that differs between plots of one page and is the same on every run.
uint32_t clip_id(const LinePlot& p) {
  uint32_t h = 2166136261u;  // FNV-1a
  for (const std::string* s : {&p.title, &p.x_label, &p.y_label})
    for (unsigned char c : *s) h = (h ^ c) * 16777619u;
  return h;
}

// How many of the drawn points, and of samples along the drawn lines, fall in a pixel box.
template <class FX, class FY>
size_t points_inside(const LinePlot& p, FX X, FY Y, double x0, double y0, double x1, double y1) {
  size_t n = 0;
  auto count = [&](double px, double py) { n += px >= x0 && px <= x1 && py >= y0 && py <= y1; };
  for (const PlotSeries& s : p.series) {
    bool have_prev = false;
    double qx = 0, qy = 0;
    for (auto [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      const double px = X(x), py = Y(y);
      if (s.line && have_prev)
        for (int k = 1; k < 16; ++k) count(qx + (px - qx) * k / 16, qy + (py - qy) * k / 16);
      count(px, py);
      have_prev = true;
      qx = px;
      qy = py;
    }
  }
  return n;
}

}  // namespace

std::string render_svg(const LinePlot& p) {
  const double W = p.width, H = p.height;
  const double left = 64, right = 16, top = p.title.empty() ? 14 : 34, bottom = 50;
  const double pw = W - left - right, ph = H - top - bottom;
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
  bool any = false;
  for (const PlotSeries& s : p.series)
    for (auto [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      any = true;
      xmin = std::min(xmin, x);
      xmax = std::max(xmax, x);
      ymin = std::min(ymin, y);
      ymax = std::max(ymax, y);
    }
  if (!any) xmin = ymin = 0, xmax = ymax = 1;
  const Axis ax = make_axis(xmin, xmax, p.x_from_zero, 7), ay = make_axis(ymin, ymax, p.y_from_zero, 6);
  auto X = [&](double x) { return left + pw * (x - ax.lo) / (ax.hi - ax.lo); };
  auto Y = [&](double y) { return top + ph * (1 - (y - ay.lo) / (ay.hi - ay.lo)); };

  std::string o = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"sans-serif\" font-size=\"12\" role=\"img\" aria-label=\"{2}\">"
      "<rect width=\"{0}\" height=\"{1}\" fill=\"#fff\"/>",
      W, H, xml_escape(p.title));
  if (!p.title.empty())
    o += fmt::format("<text x=\"{:.1f}\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">{}</text>",
                     left + pw / 2, xml_escape(p.title));
  // Grid lines and tick labels.
  for (double t : ax.ticks) {
    const double x = X(t);
    o += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#e5e5e5\"/>"
                     "<line x1=\"{0:.1f}\" y1=\"{2:.1f}\" x2=\"{0:.1f}\" y2=\"{3:.1f}\" stroke=\"#333\"/>"
                     "<text class=\"xtick\" x=\"{0:.1f}\" y=\"{4:.1f}\" text-anchor=\"middle\">{5}</text>",
                     x, top, top + ph, top + ph + 5, top + ph + 18, tick_label(t, ax.step));
  }
  for (double t : ay.ticks) {
    const double y = Y(t);
    o += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#e5e5e5\"/>"
                     "<line x1=\"{3:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{1:.1f}\" stroke=\"#333\"/>"
                     "<text class=\"ytick\" x=\"{4:.1f}\" y=\"{5:.1f}\" text-anchor=\"end\">{6}</text>",
                     left, y, left + pw, left - 5, left - 8, y + 4, tick_label(t, ay.step));
  }
  o += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" stroke=\"#333\"/>",
                   left, top, pw, ph);
  // Axis titles.
  o += fmt::format("<text class=\"xlabel\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>", left + pw / 2,
                   H - 10, xml_escape(p.x_label));
  o += fmt::format("<text class=\"ylabel\" transform=\"translate(16 {:.1f}) rotate(-90)\" "
                   "text-anchor=\"middle\">{}</text>",
                   top + ph / 2, xml_escape(p.y_label));
  if (!any)
    o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" fill=\"#888\">no data</text>",
                     left + pw / 2, top + ph / 2);
  // The series, clipped to the plot area.
  o += fmt::format("<clipPath id=\"c{0}\"><rect x=\"{1:.1f}\" y=\"{2:.1f}\" width=\"{3:.1f}\" height=\"{4:.1f}\"/>"
                   "</clipPath>"
                   "<g clip-path=\"url(#c{0})\">",
                   clip_id(p), left - 4, top - 4, pw + 8, ph + 8);
  for (const PlotSeries& s : p.series) {
    std::string pts;
    for (auto [x, y] : s.points)
      if (std::isfinite(x) && std::isfinite(y)) pts += fmt::format("{:.1f},{:.1f} ", X(x), Y(y));
    if (s.line && !pts.empty())
      o += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"{}\" stroke-linejoin=\"round\" "
                       "points=\"{}\"/>", xml_escape(s.color), s.width, pts);
    if (s.markers)
      for (auto [x, y] : s.points)
        if (std::isfinite(x) && std::isfinite(y))
          o += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3.5\" fill=\"{}\"><title>{}: x {:g}, y {:.4g}"
                           "</title></circle>", X(x), Y(y), xml_escape(s.color), xml_escape(s.name), x, y);
  }
  o += "</g>";
  // Legend, in the corner of the plot area that the data crosses least.
  int shown = 0;
  for (const PlotSeries& s : p.series) shown += !s.name.empty();
  if (shown > 0) {
    size_t longest = 0;
    for (const PlotSeries& s : p.series) longest = std::max(longest, s.name.size());
    const double lw = 34 + 6.8 * longest, lh = 8 + 18 * shown;
    double lx = left + pw - lw - 8, ly = top + 8;
    size_t fewest = SIZE_MAX;
    for (int corner = 0; corner < 4; ++corner) {  // top right, top left, bottom right, bottom left
      const double cx = corner % 2 == 0 ? left + pw - lw - 8 : left + 8;
      const double cy = corner < 2 ? top + 8 : top + ph - lh - 8;
      const size_t n = points_inside(p, X, Y, cx - 4, cy - 4, cx + lw + 4, cy + lh + 4);
      if (n < fewest) fewest = n, lx = cx, ly = cy;
    }
    o += fmt::format("<g class=\"legend\"><rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
                     "fill=\"#fff\" fill-opacity=\"0.85\" stroke=\"#bbb\"/>", lx, ly, lw, lh);
    int k = 0;
    for (const PlotSeries& s : p.series) {
      if (s.name.empty()) continue;
      const double y = ly + 14 + 18 * k++;
      if (s.line)
        o += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" "
                         "stroke-width=\"2.5\"/>",
                         lx + 6, y - 4, lx + 26, y - 4, xml_escape(s.color));
      if (s.markers)
        o += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3.5\" fill=\"{}\"/>", lx + 16, y - 4,
                         xml_escape(s.color));
      o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>", lx + 30, y, xml_escape(s.name));
    }
    o += "</g>";
  }
  o += "</svg>";
  return o;
}

}  // namespace mrnn
