// embed_export: a trained embedding model's word table as word2vec text (gensim's
// KeyedVectors.load_word2vec_format(path, binary=False) reads it), as .npy [words, D] f32, and a
// vocabulary file naming the .npy's rows, one word a line. The special tokens are not exported.
//   embed_export --model runs/embA --out runs/embA/export
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "data/npy.h"
#include "data/raw_array_tensor.h"
#include "examples/embed_cli.h"

using namespace mrnn;

int main(int argc, char** argv) {
  CLI::App app{"Export a trained embedding model's word vectors: OUT/embeddings.txt (word2vec text: 'V D' header,\n"
               "then one word and its D values a line), OUT/embeddings.npy (float32 [V, D]) and OUT/words.txt (the\n"
               "word of each .npy row). <pad> <unk> <bos> <eos> are not exported."};
  std::string model, out;
  app.option_defaults()->always_capture_default();
  app.add_option("--model", model, "model folder written by embed_train")->required()->check(CLI::ExistingDirectory);
  app.add_option("--out", out, "output folder (created if missing)")->required();
  CLI11_PARSE(app, argc, argv);
  try {
    const EmbedDir d = load_embed_dir(model);
    const WordVectors table = word_table(d, model);
    std::filesystem::create_directories(out);
    save_word2vec_text(out + "/embeddings.txt", table);
    write_npy(out + "/embeddings.npy",
              to_raw_array(Tensor::from_vector(table.values(), {table.size(), table.dim()})));
    {
      const std::string tmp = out + "/words.txt.tmp";
      std::ofstream f(tmp);
      for (const std::string& w : table.words()) f << w << '\n';
      if (!f.good()) throw Error(tmp + ": cannot write");
      f.close();
      std::filesystem::rename(tmp, out + "/words.txt");
    }
    std::printf("exported %lld words x %lld (%s) to %s/embeddings.txt, embeddings.npy, words.txt\n",
                static_cast<long long>(table.size()), static_cast<long long>(table.dim()), d.config.name().c_str(),
                out.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "embed_export: error: %s\n", e.what());
    return 1;
  }
}
