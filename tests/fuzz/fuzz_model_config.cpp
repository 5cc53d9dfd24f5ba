// libFuzzer target for config.json (parse_model_config: MrnnConfig::from_json plus the size bounds
// and the tokenizer field): any input must parse or throw mrnn::Error; what parses must survive
// to_json -> parse_model_config unchanged, and, when its model is small, build an Mrnn (or throw
// mrnn::Error) without a sanitizer report.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/random.h"
#include "models/mrnn/model_dir.h"
#include "models/mrnn/mrnn.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  mrnn::MrnnConfig c;
  try {
    c = mrnn::parse_model_config(text, "fuzz/config.json");
  } catch (const mrnn::Error&) {
    return 0;
  }
  const mrnn::MrnnConfig d = mrnn::parse_model_config(c.to_json(), "re-encoded/config.json");
  if (d.to_json() != c.to_json()) std::abort();

  // Parameter count, estimated in double (no overflow): build only models of < 200k parameters.
  const double e1 = c.embed1, e2 = c.embed2, r = c.rnn, m = c.multimodal, v = c.vocab, d_img = c.image_dim;
  double params = v * e1 + e1 * e2 + 4 * (e2 * r + r * r) + m * (e2 + r + d_img) + m * (v + e1);
  if (c.image_input == "cnn") {
    double in = 3, side = c.image_size;
    for (int64_t ch : c.cnn_channels) {
      params += in * ch * 9;
      in = static_cast<double>(ch);
      side /= 2;
    }
    params += in * side * side * d_img;
  }
  if (params > 2e5) return 0;
  try {
    mrnn::Generator gen(1);
    mrnn::Mrnn model(c, gen);
    if (model.parameter_count() <= 0) std::abort();
  } catch (const mrnn::Error&) {
  }
  return 0;
}
