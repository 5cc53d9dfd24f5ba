// A line plot as an inline SVG string: series of (x, y) points on linear axes with "nice" ticks
// (1, 2 or 5 times a power of ten), grid lines, axis titles and a legend.
// Why: the evaluation report (models/mrnn/report.h) must be one self-contained HTML file that reads
// in any browser without JavaScript; a plot a person can read needs labelled axes and ticks.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace mrnn {

struct PlotSeries {
  std::string name;                              // legend text
  std::string color = "#1f77b4";                 // any SVG colour
  std::vector<std::pair<double, double>> points; // (x, y), drawn in the given order
  bool line = true;                              // join the points
  bool markers = false;                          // a dot (with a hover title) at each point
  double width = 1.8;                            // line width in px
};

struct LinePlot {
  std::string title, x_label, y_label;
  std::vector<PlotSeries> series;
  int width = 580, height = 320;                 // px, the whole figure
  bool x_from_zero = true, y_from_zero = false;  // include 0 in the axis range
};

// Requires: lo <= hi, both finite; target >= 2.
// Ensures: ticks t_0 < t_1 < ... evenly spaced by step = {1, 2, 5} x 10^k, with t_0 <= lo and the
// last >= hi (the axis runs from the first to the last tick), about `target` of them; a range of
// zero width is widened around its value.
// Why: round tick values ("0, 50, 100, 150") are what a reader can read off.
std::vector<double> nice_ticks(double lo, double hi, int target = 6);

// Ensures: `v` written with as many decimals as the tick spacing `step` needs ("0.25", "150").
std::string tick_label(double v, double step);

// Ensures: an <svg> element drawing `plot`; points with a non-finite coordinate are dropped; with
// no point in any series, the axes of [0, 1] and the text "no data".
std::string render_svg(const LinePlot& plot);

// Ensures: `s` with & < > " ' replaced by character references (UTF-8 passes through unchanged).
// Why: captions and file names go into HTML and SVG text and attributes.
std::string xml_escape(const std::string& s);

}  // namespace mrnn
