// The report's line plots (models/mrnn/svg_plot.h): nice tick values, labels with the decimals
// the spacing needs, and an SVG with axis titles, ticks, legend and one vertex per finite point.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "models/mrnn/svg_plot.h"

using namespace mrnn;
using Catch::Matchers::Contains;

namespace {

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + what.size())) ++n;
  return n;
}

bool is_nice_step(double step) {  // 1, 2 or 5 times a power of ten
  const double mag = std::pow(10.0, std::floor(std::log10(step) + 1e-9));
  const double m = step / mag;
  return std::fabs(m - 1) < 1e-6 || std::fabs(m - 2) < 1e-6 || std::fabs(m - 5) < 1e-6;
}

}  // namespace

TEST_CASE("nice_ticks covers the range with round, evenly spaced values", "[report][svg]") {
  CHECK(nice_ticks(0, 97) == std::vector<double>{0, 20, 40, 60, 80, 100});
  CHECK(nice_ticks(1.2, 4.9) == std::vector<double>{1, 2, 3, 4, 5});
  const std::pair<double, double> ranges[] = {{0, 150}, {0.013, 0.087}, {2.31, 2.34}, {-3, 7}, {10, 12000}, {0, 1e-4}};
  for (auto [lo, hi] : ranges) {
    const std::vector<double> t = nice_ticks(lo, hi);
    INFO("range " << lo << " .. " << hi);
    REQUIRE(t.size() >= 3);
    CHECK(t.size() <= 11);
    CHECK(t.front() <= lo + 1e-9);
    CHECK(t.back() >= hi - 1e-9);
    const double step = t[1] - t[0];
    CHECK(is_nice_step(step));
    for (size_t i = 1; i < t.size(); ++i) CHECK(t[i] - t[i - 1] == Approx(step));
    CHECK(std::fabs(std::remainder(t.front(), step)) < step * 1e-6);  // ticks are multiples of the step
  }
  const std::vector<double> one = nice_ticks(5, 5);  // a single value is widened, not a crash
  CHECK(one.front() < 5);
  CHECK(one.back() > 5);
  CHECK_THROWS(nice_ticks(2, 1));
  CHECK_THROWS(nice_ticks(0, std::numeric_limits<double>::infinity()));
}

TEST_CASE("tick labels carry the decimals their spacing needs", "[report][svg]") {
  CHECK(tick_label(150, 50) == "150");
  CHECK(tick_label(0.25, 0.05) == "0.25");
  CHECK(tick_label(0.2, 0.2) == "0.2");
  CHECK(tick_label(3, 1) == "3");
  CHECK(tick_label(0, 0.01) == "0.00");
}

TEST_CASE("render_svg draws axes, titles, ticks, a legend and the finite points", "[report][svg]") {
  LinePlot p;
  p.title = "Training loss";
  p.x_label = "step";
  p.y_label = "loss <nats>";
  const double nan = std::numeric_limits<double>::quiet_NaN();
  p.series.push_back({"train", "#1f77b4", {{0, 4.1}, {50, 3.0}, {100, nan}, {150, 2.2}}, true, false});
  p.series.push_back({"val", "#d62728", {{50, 3.3}, {150, 2.5}}, false, true});
  const std::string svg = render_svg(p);
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(svg.substr(svg.size() - 6) == "</svg>");
  CHECK_THAT(svg, Contains("Training loss"));
  CHECK_THAT(svg, Contains("class=\"xlabel\"") && Contains(">step</text>"));
  CHECK_THAT(svg, Contains("class=\"ylabel\"") && Contains(">loss &lt;nats&gt;</text>"));  // escaped
  // x from 0 to 150: ticks 0, 50, 100, 150.
  CHECK(count(svg, "class=\"xtick\"") == 4);
  CHECK_THAT(svg, Contains(">0</text>") && Contains(">50</text>") && Contains(">150</text>"));
  CHECK(count(svg, "class=\"ytick\"") >= 3);
  CHECK_THAT(svg, Contains("class=\"legend\"") && Contains(">train</text>") && Contains(">val</text>"));
  // The NaN point is dropped: 3 vertices in the polyline, 2 markers.
  const size_t at = svg.find("<polyline");
  REQUIRE(at != std::string::npos);
  const size_t pts = svg.find("points=\"", at) + 8;
  const std::string points = svg.substr(pts, svg.find('"', pts) - pts);
  CHECK(count(points, ",") == 3);
  CHECK(count(svg, "<polyline") == 1);
  CHECK(count(svg, "<circle") == 2 + 1);  // two markers, one legend dot
  CHECK(svg.find("nan") == std::string::npos);

  LinePlot empty;
  empty.x_label = "step";
  const std::string e = render_svg(empty);
  CHECK_THAT(e, Contains("no data") && Contains(">step</text>"));
  CHECK(e.find("<polyline") == std::string::npos);
}
