// A trained embedding model's word table as WordVectors (eval/word_vectors.h): the rows of the
// vocabulary's ordinary words (ids from kNumSpecials on; <pad>, <unk>, <bos>, <eos> are not words).
// Why: export, neighbours and the related-phrase evaluation all read the same table.
#pragma once
#include <string>

#include "eval/word_vectors.h"
#include "models/embed/embed_dir.h"

namespace mrnn {

// Requires: d loaded by load_embed_dir from `dir`. Throws Error naming dir/vocab.txt when the
// vocabulary has no ordinary word (an empty vocabulary), or when the table's shape is not [vocab
// size, config embed] (a dimension mismatch).
WordVectors word_table(const EmbedDir& d, const std::string& dir);

}  // namespace mrnn
