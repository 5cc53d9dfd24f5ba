#include "models/mrnn/report.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "data/raw_array.h"
#include "models/mrnn/svg_plot.h"

namespace mrnn {

namespace {

using json = nlohmann::ordered_json;  // keeps caption_eval's key order in the raw JSON
std::string esc(const std::string& s) { return xml_escape(s); }

const char* kStyle =
    "body{font-family:'DejaVu Sans',Arial,'Noto Sans CJK SC','WenQuanYi Micro Hei','Microsoft YaHei',sans-serif;"
    "margin:24px auto;max-width:1220px;padding:0 16px;color:#222;"
    "line-height:1.35}"
    "h1{font-size:26px;margin:0 0 4px}h3{font-size:15px;margin:16px 0 6px}"
    "h2{font-size:19px;margin:28px 0 8px;border-bottom:2px solid #eee;"
    "padding-bottom:4px}.sub{color:#555;margin:0 0 12px}"
    "table.m{border-collapse:collapse;font-size:15px;margin:6px 0}"
    "table.m th,table.m td{padding:5px 12px;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}"
    "table.m th:first-child,table.m td:first-child{text-align:left}"
    "table.m thead th{border-bottom:2px solid #444;vertical-align:bottom}"
    "table.m tr.rand td{color:#777;font-style:italic}td.best{font-weight:bold}"
    ".note{color:#666;font-size:13px;margin:4px 0 0;max-width:900px}"
    ".row{display:flex;flex-wrap:wrap;gap:20px;align-items:flex-start}.half{flex:1 1 540px;min-width:0}"
    ".plot{border:1px solid #ddd}"
    ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(380px,1fr));gap:10px}"
    ".card{display:flex;gap:10px;border:1px solid #ddd;border-radius:4px;padding:7px;font-size:13px;"
    "background:#fcfcfc}.card .pic{flex:none}.card .txt{flex:1;min-width:0}.cap{margin:0 0 3px}"
    ".lab{display:inline-block;min-width:46px;color:#555;font-size:12px}"
    ".ref{color:#777;font-size:12px;margin:2px 0 0}"
    ".bad{color:#c00;text-decoration:underline wavy #c00;text-decoration-skip-ink:none;text-underline-offset:3px}"
    ".badge{display:inline-block;font-size:11px;font-weight:bold;border-radius:8px;padding:0 6px;white-space:nowrap}"
    ".ok{background:#dff3e4;color:#17692f}.no{background:#fbe0e0;color:#a00}.unk{background:#eee;color:#666}"
    ".thumb{display:inline-block;margin:0 6px 0 0;text-align:center;font-size:11px;color:#666;vertical-align:top}"
    ".thumb img,.thumb .missing{border:3px solid transparent}.thumb.hit img,.thumb.hit .missing{border-color:#2a7}"
    ".missing{display:inline-block;width:64px;height:64px;background:#eee;font-size:10px;overflow:hidden;"
    "word-break:break-all;color:#666}"
    "table.ex{border-collapse:collapse;font-size:13px}table.ex td{border-top:1px solid #ddd;padding:6px 10px;"
    "vertical-align:top}table.ex th{text-align:left;padding:4px 10px;color:#555}"
    "ol.sent{margin:0;padding-left:22px}ol.sent li.hit{color:#17692f;font-weight:bold}"
    "details{margin-top:24px}pre{background:#f6f6f6;padding:8px;font-size:12px;overflow:auto}";

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

// An <img> with the file as a data URI; a grey box with the name when there is no picture.
std::string image_tag(const std::string& dir, const std::string& name, int px) {
  std::string bytes;
  if (!dir.empty()) {
    std::ifstream f(dir + "/" + name, std::ios::binary);
    if (f) {
      std::stringstream ss;
      ss << f.rdbuf();
      bytes = ss.str();
    }
  }
  if (bytes.empty())
    return fmt::format("<span class=missing style=\"width:{0}px;height:{0}px\" title=\"{1}\">{1}</span>", px, esc(name));
  std::string ext = std::filesystem::path(name).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  const char* mime = (ext == ".jpg" || ext == ".jpeg") ? "image/jpeg" : "image/png";
  return fmt::format("<img src=\"data:{};base64,{}\" width={} height={} alt=\"{}\" title=\"{}\" "
                     "style=\"image-rendering:pixelated\">", mime, base64(bytes), px, px, esc(name), esc(name));
}

const json* object_at(const json& m, const char* key) {
  auto it = m.find(key);
  return it != m.end() && it->is_object() ? &*it : nullptr;
}
bool number_at(const json* o, const char* key, double& v) {
  if (!o) return false;
  auto it = o->find(key);
  if (it == o->end() || !it->is_number()) return false;
  v = it->get<double>();
  return true;
}
std::string fmt_num(double v, int decimals) { return fmt::format("{:.{}f}", v, decimals); }

// -- Metrics table: decoders as columns. ------------------------------------------------------
std::string metrics_section(const json& m) {
  struct Column { const char* key; std::string header; };
  std::vector<Column> cols;
  double k = 0;
  if (object_at(m, "greedy")) cols.push_back({"greedy", "Greedy"});
  if (const json* b = object_at(m, "beam"))
    cols.push_back({"beam", number_at(b, "beam_size", k) ? fmt::format("Beam (k = {:g})", k) : "Beam"});
  if (object_at(m, "blind_greedy")) cols.push_back({"blind_greedy", "Blind greedy"});
  std::string o = "<h2>Captioning</h2>";
  if (cols.empty()) return o + "<p class=note>(the metrics have no decoder results)</p>";
  // A row's value for a decoder: metrics[decoder][key], or for the scene rows
  // metrics.scene_check[decoder][...] (claims of a kind only where the decoder made some).
  struct Row { const char* key; const char* label; int decimals; bool optional; const char* claim_kind; };
  const Row rows[] = {{"bleu1", "BLEU-1", 3, false, nullptr},     {"bleu2", "BLEU-2", 3, false, nullptr},
                      {"bleu3", "BLEU-3", 3, false, nullptr},     {"bleu4", "BLEU-4", 3, false, nullptr},
                      {"rouge_l", "ROUGE-L", 3, false, nullptr},  {"cider_d", "CIDEr-D", 3, false, nullptr},
                      {"meteor", "METEOR", 3, true, nullptr},     {"scene_correct", "scene-correct %", 1, true, nullptr},
                      {"parsed_percent", "understood by the checker %", 1, true, ""},
                      {"object", "true object claims %", 1, true, "object"},
                      {"count", "true count claims %", 1, true, "count"},
                      {"relation", "true relation claims %", 1, true, "relation"},
                      {"location", "true location claims %", 1, true, "location"}};
  const json* scene = object_at(m, "scene_check");
  auto value = [&](const Row& r, const char* col, double& v) {
    if (!r.claim_kind) return number_at(object_at(m, col), r.key, v);
    const json* s = scene ? object_at(*scene, col) : nullptr;
    if (!*r.claim_kind) return number_at(s, r.key, v);
    const json* claims = s ? object_at(*s, "claims") : nullptr;
    const json* kind = claims ? object_at(*claims, r.claim_kind) : nullptr;
    double n = 0;
    return number_at(kind, "claims", n) && n > 0 && number_at(kind, "precision", v);
  };
  o += "<table class=m id=metrics><thead><tr><th>metric</th>";
  for (const Column& c : cols) o += "<th>" + esc(c.header) + "</th>";
  o += "</tr></thead><tbody>";
  for (const Row& r : rows) {
    std::vector<double> v(cols.size());
    std::vector<bool> has(cols.size());
    bool any = false;
    for (size_t c = 0; c < cols.size(); ++c) any |= has[c] = value(r, cols[c].key, v[c]);
    if (!any && r.optional) continue;
    int best = -1;  // bold the best decoder of the row: compared with another, and not tied as shown
    for (size_t c = 0; c < cols.size(); ++c)
      if (has[c] && (best < 0 || v[c] > v[best])) best = static_cast<int>(c);
    int present = 0;
    for (size_t c = 0; c < cols.size(); ++c) {
      present += has[c];
      if (has[c] && static_cast<int>(c) != best && fmt_num(v[c], r.decimals) == fmt_num(v[best], r.decimals))
        present = -1000;  // a tie: nothing in bold
    }
    o += fmt::format("<tr data-key=\"{}\"><td>{}</td>", r.key, r.label);
    for (size_t c = 0; c < cols.size(); ++c)
      o += !has[c] ? "<td>—</td>"
                   : fmt::format("<td{}>{}</td>", present > 1 && static_cast<int>(c) == best ? " class=best" : "",
                                 fmt_num(v[c], r.decimals));
    o += "</tr>";
  }
  o += "</tbody></table><p class=note>BLEU, ROUGE-L and METEOR lie in [0, 1], CIDEr-D in [0, 10] (higher is "
       "better; the best decoder of each row in bold). Blind greedy: the same model with its image input zeroed, "
       "a language-only baseline.";
  if (scene)
    o += " Scene rows: each caption's claims checked against the image's annotated scene (data/scene_check.h); "
         "a caption is scene-correct when the checker understands it and every claim holds.";
  if (auto it = m.find("meteor"); it != m.end() && it->is_string()) o += " METEOR: " + esc(it->get<std::string>()) + ".";
  return o + "</p>";
}

// The line under the title: split, sizes, perplexity, beam size.
std::string caption_line(const json& m) {
  std::vector<std::string> parts;
  if (auto it = m.find("split"); it != m.end() && it->is_string()) parts.push_back(esc(it->get<std::string>()) + " split");
  double v = 0;
  if (number_at(&m, "images", v)) parts.push_back(fmt::format("{:g} images", v));
  if (number_at(&m, "sentences", v)) parts.push_back(fmt::format("{:g} reference sentences", v));
  if (number_at(&m, "perplexity", v)) parts.push_back(fmt::format("perplexity {:.2f}", v));
  if (number_at(object_at(m, "beam"), "beam_size", v)) parts.push_back(fmt::format("beam size {:g}", v));
  std::string o = "<p class=sub id=summary>";
  for (size_t i = 0; i < parts.size(); ++i) o += (i ? " · " : "") + parts[i];
  return o + "</p>";
}

// -- Retrieval table with the random baseline. ------------------------------------------------
// Chance that a random ranking of S sentences puts one of an image's m sentences in the top K.
double random_hit(int64_t S, int64_t m, int64_t K) {
  double miss = 1;
  for (int64_t j = 0; j < K && j < S; ++j) miss *= std::max<double>(0, S - m - j) / double(S - j);
  return 100 * (1 - miss);
}

std::string retrieval_section(const json& m, const CaptionSplit& sp, int64_t fallback_n) {
  struct Row { const char* key; const char* label; };
  const Row rows[] = {{"image_retrieval", "image retrieval (sentence → image)"},
                      {"sentence_retrieval", "sentence retrieval, normalised by P(S)"},
                      {"sentence_retrieval_unnormalized", "sentence retrieval, unnormalised"}};
  bool any = false;
  for (const Row& r : rows) any |= object_at(m, r.key) != nullptr;
  if (!any) return "";
  double n = 0, s = 0;
  if (!number_at(&m, "retrieval_images", n)) n = static_cast<double>(fallback_n);
  number_at(&m, "retrieval_sentences", s);
  std::string o = "<h2>Retrieval</h2>";
  if (n > 0)
    o += fmt::format("<p class=note style=\"margin:0\">over the first {:g} images{}</p>", n,
                     s > 0 ? fmt::format(" and their {:g} sentences", s) : "");
  o += "<table class=m id=retrieval><thead><tr><th>direction</th><th>R@1</th><th>R@5</th><th>R@10</th><th>Med r</th>"
       "</tr></thead><tbody>";
  for (const Row& r : rows) {
    const json* j = object_at(m, r.key);
    if (!j) continue;
    o += fmt::format("<tr data-key=\"{}\"><td>{}</td>", r.key, r.label);
    for (const char* k : {"r1", "r5", "r10"}) {
      double v = 0;
      o += number_at(j, k, v) ? "<td>" + fmt_num(v, 1) + "</td>" : "<td>—</td>";
    }
    double med = 0;
    o += number_at(j, "med_r", med) ? fmt::format("<td>{:g}</td>", med) : "<td>—</td>";
    o += "</tr>";
  }
  if (n > 0)
    o += fmt::format("<tr class=rand data-key=\"random\"><td>random</td><td>{}</td><td>{}</td><td>{}</td>"
                     "<td>{:g}</td></tr>",
                     fmt_num(100 * std::min(1.0, 1 / n), 1), fmt_num(100 * std::min(1.0, 5 / n), 1),
                     fmt_num(100 * std::min(1.0, 10 / n), 1), (n + 1) / 2);
  o += "</tbody></table><p class=note>R@K: % of queries whose true match ranks in the top K; Med r: median rank "
       "of the true match (lower is better). Normalised: sentences ranked by log P(S | I) − log P(S), P(S) "
       "estimated over training images; unnormalised: by log P(S | I).";
  if (n > 0) {
    o += fmt::format(" Random: a uniformly random ranking of the N = {:g} images, R@K = 100·K/N and Med r = "
                     "(N + 1)/2; exact for image retrieval.", n);
    // Sentence retrieval ranks S sentences, m_i of them image i's own: chance is higher at K > 1.
    const int64_t N = std::min<int64_t>(static_cast<int64_t>(n), sp.num_images());
    std::vector<int64_t> own(static_cast<size_t>(std::max<int64_t>(N, 0)));
    int64_t S = 0;
    for (int64_t img : sp.caption_image)
      if (img >= 0 && img < N) own[img]++, S++;
    if (N > 0 && S > 0) {
      double hit[3] = {0, 0, 0};
      const int64_t ks[3] = {1, 5, 10};
      for (int64_t c : own)
        for (int k = 0; k < 3; ++k) hit[k] += random_hit(S, c, ks[k]) / N;
      o += fmt::format(" For sentence retrieval a random ranking of the {} sentences finds one of an image's own "
                       "sentences in the top 1/5/10 with {:.1f} / {:.1f} / {:.1f} %.", S, hit[0], hit[1], hit[2]);
    }
  }
  return o + "</p>";
}

// -- Curves from log.jsonl. -------------------------------------------------------------------
// Points by step, the last value logged for a step kept (a resumed run logs some steps again).
using Points = std::vector<std::pair<double, double>>;
Points by_step(const std::map<double, double>& m) { return Points(m.begin(), m.end()); }

std::string curves_section(const std::string& log_path) {
  std::string o = "<h2>Training</h2>";
  std::ifstream f(log_path);
  if (log_path.empty() || !f) return o + "<p class=note>(no training log found" +
                                     (log_path.empty() ? std::string() : " at " + esc(log_path)) + ")</p>";
  std::map<double, double> loss, cider;
  double best_step = -1;
  std::string line;
  while (std::getline(f, line)) {
    const json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;  // malformed lines are skipped
    auto ev = j.find("event");
    double step = 0, v = 0;
    if (ev == j.end() || !ev->is_string() || !number_at(&j, "step", step)) continue;
    if (*ev == "train" && number_at(&j, "loss", v) && std::isfinite(v)) loss[step] = v;
    if (*ev == "val" && number_at(&j, "cider_d", v) && std::isfinite(v)) {
      cider[step] = v;
      auto b = j.find("best");
      if (b != j.end() && b->is_boolean() && b->get<bool>()) best_step = step;
    }
  }
  if (loss.empty() && cider.empty()) return o + "<p class=note>(the training log " + esc(log_path) +
                                            " has no train or val steps)</p>";
  o += "<div class=row>";
  LinePlot lp;
  lp.title = "Training loss";
  lp.x_label = "step";
  lp.y_label = "loss: mean NLL per word (nats)";
  Points raw = by_step(loss);
  if (raw.size() >= 40) {  // a long run: the raw curve faint, a moving average on top
    lp.series.push_back({"training loss", "#9ecae1", raw, true, false, 1.0});
    const size_t w = std::max<size_t>(3, raw.size() / 25);
    Points avg;
    double sum = 0;
    for (size_t i = 0; i < raw.size(); ++i) {
      sum += raw[i].second;
      if (i >= w) sum -= raw[i - w].second;
      if (i + 1 >= w) avg.emplace_back(raw[i].first, sum / w);
    }
    lp.series.push_back({fmt::format("moving average ({} points)", w), "#08519c", avg, true, false, 2.2});
  } else {
    lp.series.push_back({"training loss", "#1f77b4", raw, true, raw.size() < 2, 2.0});
  }
  o += "<div class=plot id=loss-plot>" + render_svg(lp) + "</div>";
  LinePlot cp;
  cp.title = "Validation CIDEr-D";
  cp.x_label = "step";
  cp.y_label = "CIDEr-D (validation images)";
  cp.y_from_zero = true;
  if (!cider.empty()) {
    cp.series.push_back({"validation CIDEr-D", "#d62728", by_step(cider), true, true, 2.0});
    if (best_step >= 0) cp.series.push_back({"best checkpoint", "#2ca02c", {{best_step, cider[best_step]}}, false, true});
  }
  o += "<div class=plot id=cider-plot>" + render_svg(cp) + "</div></div>";
  if (cider.empty()) o += "<p class=note>(no validation events with CIDEr-D in the log)</p>";
  return o;
}

// -- Captions with their scene checks. --------------------------------------------------------
std::vector<std::string> words_of(const std::string& s) {
  std::vector<std::string> w;
  size_t i = 0;
  while (i <= s.size()) {
    const size_t j = std::min(s.find(' ', i), s.size());
    w.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return w;
}

// The kind's word (claim_kind_name's words, spelled here so the report needs only the types).
const char* kind_word(ClaimKind k) {
  switch (k) {
    case ClaimKind::object: return "object";
    case ClaimKind::count: return "count";
    case ClaimKind::relation: return "relation";
    case ClaimKind::location: return "location";
  }
  return "claim";
}

bool check_correct(const CaptionCheck& c) {  // as CaptionCheck::correct() documents it
  return c.parsed && !c.claims.empty() &&
         std::all_of(c.claims.begin(), c.claims.end(), [](const Claim& k) { return k.holds; });
}

// The caption's words, each run covered by false claims in a red span naming them.
std::string caption_html(const std::string& text, const CaptionCheck* check) {
  if (!check) return esc(text);
  const std::vector<std::string> w = words_of(text);
  std::vector<std::vector<size_t>> cover(w.size());  // false claims over each word
  for (size_t c = 0; c < check->claims.size(); ++c) {
    const Claim& k = check->claims[c];
    if (k.holds) continue;
    for (size_t i = k.word_begin; i < std::min(k.word_end, w.size()); ++i) cover[i].push_back(c);
  }
  std::string o;
  for (size_t i = 0; i < w.size();) {
    size_t j = i + 1;
    while (j < w.size() && cover[j] == cover[i]) ++j;
    std::string run;
    for (size_t t = i; t < j; ++t) run += (t > i ? " " : "") + esc(w[t]);
    if (i > 0) o += ' ';
    if (cover[i].empty()) {
      o += run;
    } else {
      std::string title;
      for (size_t c : cover[i])
        title += (title.empty() ? "false: " : ", ") + std::string(kind_word(check->claims[c].kind));
      o += "<span class=bad title=\"" + esc(title) + "\">" + run + "</span>";
    }
    i = j;
  }
  return o;
}

// The verdict on a caption, shown before it ("" without a check).
std::string badge_html(const CaptionCheck* check) {
  if (!check) return "";
  if (!check->parsed)
    return "<span class=\"badge unk\" title=\"outside the scene checker's language\">not understood</span> ";
  if (check->claims.empty())
    return "<span class=\"badge unk\" title=\"the sentence makes no claim the checker knows\">no claims</span> ";
  if (check_correct(*check)) return "<span class=\"badge ok\" title=\"every claim holds in the scene\">✓</span> ";
  return "<span class=\"badge no\" title=\"a claim is false in the scene\">✗</span> ";
}

std::string grid_section(const ReportInputs& in) {
  const CaptionSplit& sp = *in.split;
  const int64_t n = std::min<int64_t>(std::max<int64_t>(in.grid_images, 0), sp.num_images());
  if (n == 0) return "";
  const bool checks = !in.greedy_checks.empty() || !in.beam_checks.empty();
  std::string o = fmt::format("<h2>Captions of the first {} images</h2>", n);
  if (checks)
    o += "<p class=note>Each caption is checked against the image's scene: <span class=\"badge ok\">✓</span> every "
         "claim holds, <span class=\"badge no\">✗</span> some claim is false (its words <span class=bad>underlined "
         "in red</span>; hover for the kind of claim), <span class=\"badge unk\">not understood</span> the sentence "
         "is outside the checker's language.</p>";
  o += "<div class=grid id=captions>";
  auto line = [&](const char* label, const std::vector<std::string>& caps, const std::vector<CaptionCheck>& chk,
                  int64_t i) {
    if (i >= static_cast<int64_t>(caps.size())) return std::string();
    const CaptionCheck* c = i < static_cast<int64_t>(chk.size()) ? &chk[i] : nullptr;
    return fmt::format("<div class=cap><span class=lab>{}</span> {}{}</div>", label, badge_html(c),
                       caption_html(caps[i], c));
  };
  for (int64_t i = 0; i < n; ++i) {
    o += "<div class=card><div class=pic>" + image_tag(in.images_dir, sp.file_names[i], 96) + "</div><div class=txt>";
    o += line("greedy", in.greedy, in.greedy_checks, i) + line("beam", in.beam, in.beam_checks, i);
    const auto& refs = sp.references.at(i);
    for (size_t r = 0; r < std::min<size_t>(2, refs.size()); ++r) o += "<div class=ref>ref: " + esc(refs[r]) + "</div>";
    o += "</div></div>";
  }
  return o + "</div>";
}

// -- Retrieval examples in both directions. ---------------------------------------------------
std::string examples_section(const ReportInputs& in) {
  const CaptionSplit& sp = *in.split;
  const int64_t N = in.retrieval_images > 0 ? std::min(in.retrieval_images, sp.num_images()) : sp.num_images();
  int64_t S = 0;  // captions are stored image by image, so the first N images own the first S captions
  while (S < static_cast<int64_t>(sp.caption_image.size()) && sp.caption_image[S] < N) ++S;
  if (N <= 0 || S <= 0 || static_cast<int64_t>(in.scores.size()) != N * S) return "";
  auto sentence_text = [&](int64_t s) {
    const int64_t img = sp.caption_image[s];
    int64_t k = 0;
    for (int64_t t = 0; t < s; ++t) k += sp.caption_image[t] == img;
    const auto& refs = sp.references.at(img);
    return k < static_cast<int64_t>(refs.size()) ? refs[k] : std::string("(sentence ") + std::to_string(s) + ")";
  };
  const int64_t top = std::min<int64_t>(5, N);
  std::string o = fmt::format(
      "<h2>Retrieval examples</h2><h3>Image retrieval</h3><p class=note>A sentence, and the 5 of {} images "
      "ranked first by log P(S | I).</p>"
      "<table class=ex id=image-examples><tr><th>query sentence</th><th>top 5 images (green frame = the "
      "sentence's own image)</th><th>rank of its image (of {})</th></tr>", N, N);
  for (int64_t q = 0; q < std::min<int64_t>(4, S); ++q) {
    const int64_t s = q * std::max<int64_t>(S / 4, 1), truth = sp.caption_image[s];
    std::vector<int64_t> order(N);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return in.scores[a * S + s] > in.scores[b * S + s]; });
    int64_t rank = 1;
    for (int64_t i = 0; i < N; ++i) rank += in.scores[i * S + s] > in.scores[truth * S + s];
    o += "<tr><td style=\"max-width:300px\">" + esc(sentence_text(s)) + "</td><td>";
    for (int64_t k = 0; k < top; ++k)
      o += fmt::format("<span class=\"thumb{}\">{}<br>{}</span>", order[k] == truth ? " hit" : "",
                       image_tag(in.images_dir, sp.file_names[order[k]], 64), k + 1);
    o += fmt::format("</td><td style=\"text-align:center\">{}</td></tr>", rank);
  }
  const bool normed = in.normalised_scores.size() == in.scores.size();
  const auto& ns = normed ? in.normalised_scores : in.scores;
  o += fmt::format("</table><h3>Sentence retrieval</h3><p class=note>An image, and the 5 of {} sentences ranked first "
                   "by {}.</p><table class=ex id=sentence-examples><tr><th>query image</th><th>top 5 sentences "
                   "(green ✓ = one of the image's own)</th><th>best rank of its own (of {})</th></tr>",
                   S, normed ? "log P(S | I) − log P(S)" : "log P(S | I)", S);
  for (int64_t q = 0; q < std::min<int64_t>(4, N); ++q) {
    const int64_t i = q * std::max<int64_t>(N / 4, 1);
    std::vector<int64_t> order(S);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return ns[i * S + a] > ns[i * S + b]; });
    int64_t best = 0;
    for (int64_t k = 0; k < S && !best; ++k)
      if (sp.caption_image[order[k]] == i) best = k + 1;
    o += "<tr><td>" + image_tag(in.images_dir, sp.file_names[i], 96) + "</td><td><ol class=sent>";
    for (int64_t k = 0; k < std::min<int64_t>(5, S); ++k) {
      const bool own = sp.caption_image[order[k]] == i;
      o += std::string(own ? "<li class=hit>" : "<li>") + esc(sentence_text(order[k])) + (own ? " ✓" : "") + "</li>";
    }
    o += fmt::format("</ol></td><td style=\"text-align:center\">{}</td></tr>", best);
  }
  return o + "</table>";
}

}  // namespace

std::string report_html(const ReportInputs& in) {
  MRNN_CHECK(in.split, "write_report: no split given");
  const CaptionSplit& sp = *in.split;
  MRNN_CHECK(sp.references.size() == sp.file_names.size(),
             "write_report: the split has {} images but references for {}", sp.file_names.size(), sp.references.size());
  MRNN_CHECK(in.greedy_checks.empty() || in.greedy_checks.size() == in.greedy.size(),
             "write_report: {} greedy scene checks for {} greedy captions (need one per caption, or none)",
             in.greedy_checks.size(), in.greedy.size());
  MRNN_CHECK(in.beam_checks.empty() || in.beam_checks.size() == in.beam.size(),
             "write_report: {} beam scene checks for {} beam captions (need one per caption, or none)",
             in.beam_checks.size(), in.beam.size());
  json m = json::object();
  if (!in.metrics_json.empty()) {
    m = json::parse(in.metrics_json, nullptr, false);
    MRNN_CHECK(!m.is_discarded() && m.is_object(), "write_report: the metrics are not a JSON object");
  }
  std::string h = "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport "
                  "content=\"width=device-width\"><title>m-RNN evaluation report</title><style>";
  h += kStyle;
  h += "</style></head><body><h1>m-RNN evaluation report</h1>";
  h += caption_line(m);
  // The two tables side by side when the page is wide enough.
  h += "<div class=row><section class=half>" + metrics_section(m) + "</section><section class=half>";
  h += retrieval_section(m, sp, in.retrieval_images > 0 ? std::min(in.retrieval_images, sp.num_images()) : 0);
  h += "</section></div>";
  h += curves_section(in.log_jsonl);
  h += grid_section(in);
  h += examples_section(in);
  h += "<details><summary>All metrics (JSON)</summary><pre>" +
       esc(m.dump(2, ' ', false, json::error_handler_t::replace)) + "</pre></details>";
  h += "<p class=note>Generated by mrnn caption_eval.</p></body></html>\n";
  return h;
}

void write_report(const std::string& dir, const ReportInputs& in) {
  const std::string html = report_html(in);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  MRNN_CHECK(!ec, "{}: cannot create the report folder: {}", dir, ec.message());
  write_file_atomic(dir + "/report.html", {{html.data(), html.size()}});  // complete or absent
}

}  // namespace mrnn
