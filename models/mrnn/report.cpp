#include "models/mrnn/report.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mrnn {

namespace {

std::string escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '&': o += "&amp;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string base64(const std::string& bytes) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int k = 3; k >= 0; --k) out += tbl[(v >> (6 * k)) & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = uint8_t(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= uint8_t(bytes[i + 1]) << 8;
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? tbl[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string image_tag(const std::string& dir, const std::string& name, int px) {
  if (dir.empty()) return "";
  std::ifstream f(dir + "/" + name, std::ios::binary);
  if (!f) return "<div class=missing>" + escape(name) + "</div>";
  std::stringstream ss;
  ss << f.rdbuf();
  std::string ext = std::filesystem::path(name).extension().string();
  std::string mime = (ext == ".jpg" || ext == ".jpeg") ? "image/jpeg" : "image/png";
  return fmt::format("<img src=\"data:{};base64,{}\" width={} height={} style=\"image-rendering:pixelated\">", mime,
                     base64(ss.str()), px, px);
}

// Train-loss polyline and validation CIDEr-D markers from log.jsonl.
std::string loss_svg(const std::string& log_path) {
  std::ifstream f(log_path);
  if (!f) return "<p>(no training log found)</p>";
  std::vector<std::pair<double, double>> loss, cider;
  std::string line;
  while (std::getline(f, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("event")) continue;
    if (j["event"] == "train") loss.emplace_back(j["step"].get<double>(), j["loss"].get<double>());
    if (j["event"] == "val") cider.emplace_back(j["step"].get<double>(), j["cider_d"].get<double>());
  }
  if (loss.empty()) return "<p>(the training log has no steps)</p>";
  const double W = 640, H = 240, pad = 40;
  double smax = 1, lmax = 0, cmax = 1e-9;
  for (auto& [s, l] : loss) { smax = std::max(smax, s); lmax = std::max(lmax, l); }
  for (auto& [s, c] : cider) cmax = std::max(cmax, c);
  auto X = [&](double s) { return pad + (W - 2 * pad) * s / smax; };
  std::string pts;
  for (auto& [s, l] : loss) pts += fmt::format("{:.1f},{:.1f} ", X(s), H - pad - (H - 2 * pad) * l / lmax);
  std::string svg = fmt::format("<svg width={} height={} style=\"background:#fff;border:1px solid #ccc\">", W, H);
  svg += fmt::format("<polyline fill=none stroke=#1f77b4 stroke-width=1.5 points=\"{}\"/>", pts);
  for (auto& [s, c] : cider)
    svg += fmt::format("<circle cx={:.1f} cy={:.1f} r=3 fill=#d62728><title>step {} CIDEr-D {:.3f}</title></circle>",
                       X(s), H - pad - (H - 2 * pad) * c / cmax, s, c);
  svg += fmt::format("<text x={} y={} font-size=12>train loss (blue, max {:.2f}) and val CIDEr-D (red, max {:.3f}) "
                     "over {} steps</text></svg>", pad, 20, lmax, cmax, smax);
  return svg;
}

}  // namespace

void write_report(const std::string& dir, const ReportInputs& in) {
  MRNN_CHECK(in.split, "write_report: no split given");
  const CaptionSplit& sp = *in.split;
  std::filesystem::create_directories(dir);
  std::ostringstream h;
  h << "<!doctype html><html><head><meta charset=utf-8><title>mrnn report</title><style>"
       "body{font-family:sans-serif;margin:24px;max-width:1200px}table{border-collapse:collapse}"
       "td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}.grid{display:flex;flex-wrap:wrap;gap:12px}"
       ".card{width:260px;border:1px solid #ddd;padding:8px;font-size:13px}.ok{color:#2a7;font-weight:bold}"
       ".ref{color:#666}</style></head><body><h1>m-RNN evaluation report</h1>";
  nlohmann::json m = nlohmann::json::parse(in.metrics_json);
  h << "<h2>Metrics</h2><table><tr><th>metric</th><th>value</th></tr>";
  std::function<void(const std::string&, const nlohmann::json&)> rows = [&](const std::string& p, const nlohmann::json& j) {
    if (j.is_object()) {
      for (auto it = j.begin(); it != j.end(); ++it) rows(p.empty() ? it.key() : p + "." + it.key(), it.value());
    } else {
      std::string v = j.is_number_float() ? fmt::format("{:.4f}", j.get<double>()) : j.dump();
      h << "<tr><td>" << escape(p) << "</td><td>" << escape(v) << "</td></tr>";
    }
  };
  rows("", m);
  h << "</table><h2>Training</h2>" << loss_svg(in.log_jsonl);

  h << "<h2>Captions</h2><div class=grid>";
  const int64_t n = std::min<int64_t>(in.grid_images, sp.num_images());
  for (int64_t i = 0; i < n; ++i) {
    h << "<div class=card>" << image_tag(in.images_dir, sp.file_names[i], 128) << "<br><b>greedy:</b> "
      << escape(in.greedy.at(i)) << "<br><b>beam:</b> " << escape(in.beam.at(i));
    for (size_t r = 0; r < std::min<size_t>(2, sp.references[i].size()); ++r)
      h << "<br><span class=ref>ref: " << escape(sp.references[i][r]) << "</span>";
    h << "</div>";
  }
  h << "</div>";

  const int64_t N = in.retrieval_images > 0 ? std::min(in.retrieval_images, sp.num_images()) : sp.num_images();
  int64_t S = 0;  // captions are stored image by image, so the first N images own the first S captions
  while (S < static_cast<int64_t>(sp.captions.size()) && sp.caption_image[S] < N) ++S;
  auto sentence_text = [&](int64_t s) {
    const int64_t img = sp.caption_image[s];
    int64_t k = 0;
    for (int64_t t = 0; t < s; ++t) k += sp.caption_image[t] == img;
    return sp.references[img].at(k);
  };
  if (static_cast<int64_t>(in.scores.size()) == N * S && N > 0) {
    h << "<h2>Image retrieval from a sentence</h2><table><tr><th>query</th><th>top 5 images (green = the "
         "query's image)</th></tr>";
    for (int64_t q = 0; q < std::min<int64_t>(4, S); ++q) {
      const int64_t s = q * std::max<int64_t>(S / 4, 1);
      std::vector<int64_t> order(N);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(),
                       [&](int64_t a, int64_t b) { return in.scores[a * S + s] > in.scores[b * S + s]; });
      h << "<tr><td>" << escape(sentence_text(s)) << "</td><td>";
      for (int64_t k = 0; k < std::min<int64_t>(5, N); ++k)
        h << "<span style=\"display:inline-block;border:3px solid "
          << (order[k] == sp.caption_image[s] ? "#2a7" : "transparent") << "\">"
          << image_tag(in.images_dir, sp.file_names[order[k]], 64) << "</span>";
      h << "</td></tr>";
    }
    h << "</table><h2>Sentence retrieval from an image (normalised by P(S))</h2><table><tr><th>image</th>"
         "<th>top 5 sentences (green = a caption of this image)</th></tr>";
    const auto& ns = in.normalised_scores.size() == in.scores.size() ? in.normalised_scores : in.scores;
    for (int64_t q = 0; q < std::min<int64_t>(4, N); ++q) {
      const int64_t i = q * std::max<int64_t>(N / 4, 1);
      std::vector<int64_t> order(S);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return ns[i * S + a] > ns[i * S + b]; });
      h << "<tr><td>" << image_tag(in.images_dir, sp.file_names[i], 96) << "</td><td>";
      for (int64_t k = 0; k < std::min<int64_t>(5, S); ++k) {
        const bool own = sp.caption_image[order[k]] == i;
        h << "<div" << (own ? " class=ok" : "") << ">" << escape(sentence_text(order[k])) << "</div>";
      }
      h << "</td></tr>";
    }
    h << "</table>";
  }
  h << "<p style=\"color:#888\">Generated by mrnn caption_eval.</p></body></html>\n";
  const std::string path = dir + "/report.html", tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    MRNN_CHECK(f.good(), "{}: cannot write the report", tmp);
    f << h.str();
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace mrnn
