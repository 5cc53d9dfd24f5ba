#!/usr/bin/env bash
# Multimodal word embeddings through the programs on a tiny ShapesWorld: make_shapes writes the
# rendered-world related-phrase test, embed_train trains A (and, briefly, its ablations, B and C),
# resume continues a stopped run, embed_eval writes JSON with accuracy and counts (ranking and
# sampled-negatives modes), embed_export writes word2vec text + .npy + words that read back,
# embed_neighbors prints neighbours; bad input fails clearly naming file and line: a malformed
# pairs line, an empty vocabulary, a dimension mismatch on export, a bad word2vec line, flags that
# do not fit the model, a GPU device.
# Usage: embed.sh BIN_DIR WORK_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin=$1 work=$2
rm -rf "$work"; mkdir -p "$work"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

for p in embed_train embed_eval embed_export embed_neighbors; do
  "$bin/$p" --help >"$work/help.txt" || fail "$p --help"
done
# Captured first: `prog --help | grep -q` can fail under pipefail when grep exits before a help text
# longer than one stdio buffer is written (SIGPIPE).
help=$("$bin/embed_train" --help)
grep -q -- "--no-visual" <<<"$help" || fail "embed_train --help lacks --no-visual"
grep -q -- "--embed.*128" <<<"$help" || fail "embed_train --help does not show the default embedding size"

s=$work/shapes
"$bin/make_shapes" --out "$s" --seed 5 --train 40 --val 8 --test 4 --novel 0 --quiet >/dev/null
pairs=$s/dataset_shapes_related_pairs.tsv
[[ -s $pairs ]] || fail "make_shapes did not write dataset_shapes_related_pairs.tsv"
grep -qP "^orange\t(red\tblue\tA|blue\tred\tB)\tcolor$" "$pairs" || fail "the pairs file lacks orange: red over blue"
data=(--data "$s/dataset_shapes.json" --images "$s/images")
small=(--batch 16 --embed 16 --rnn-size 24 --multimodal 24 --image-dim 16 --cnn-channels 8,8 --min-count 1 --quiet)

"$bin/embed_train" --model A "${data[@]}" --out "$work/A" --max-steps 6 "${small[@]}" >"$work/A.out"
for f in config.json vocab.txt model.safetensors checkpoint.safetensors log.jsonl; do
  [[ -s "$work/A/$f" ]] || fail "embed_train did not write $f"
done
grep -q '"variant": "A"' "$work/A/config.json" || fail "config.json lacks the variant"
grep -q '"event":"val"' "$work/A/log.jsonl" || fail "log.jsonl has no validation"
# Stop after 3 steps, resume to 6: the same weights as the straight run.
"$bin/embed_train" --model A "${data[@]}" --out "$work/R" --max-steps 6 --stop-after 3 "${small[@]}" >/dev/null
"$bin/embed_train" --model A "${data[@]}" --out "$work/R" --max-steps 6 --resume "${small[@]}" >/dev/null
grep -q '"event":"resume"' "$work/R/log.jsonl" || fail "no resume event"
cmp -s "$work/A/model.safetensors" "$work/R/model.safetensors" || fail "resumed run differs from the straight run"
# The ablations, B and C train too.
"$bin/embed_train" --model A --no-visual "${data[@]}" --out "$work/Anv" --max-steps 2 "${small[@]}" >/dev/null
"$bin/embed_train" --model A --no-tws "${data[@]}" --out "$work/Aut" --max-steps 2 "${small[@]}" >/dev/null
"$bin/embed_train" --model B --state-weight 0.5 "${data[@]}" --out "$work/B" --max-steps 2 "${small[@]}" >/dev/null
"$bin/embed_train" --model C "${data[@]}" --out "$work/C" --max-steps 2 "${small[@]}" >/dev/null
"$bin/embed_train" --model A --cnn-pool max "${data[@]}" --out "$work/Amx" --max-steps 2 "${small[@]}" >/dev/null
grep -q '"cnn_pool": "max"' "$work/Amx/config.json" || fail "--cnn-pool max not recorded"
grep -q '"visual": false' "$work/Anv/config.json" || fail "--no-visual not recorded"
grep -q '"tws": false' "$work/Aut/config.json" || fail "--no-tws not recorded"
grep -q '"state_weight": 0.5' "$work/B/config.json" || fail "--state-weight not recorded"
grep -q '"aux":' "$work/C/log.jsonl" || fail "C's log lacks the aux loss"

# Evaluation: JSON with accuracy and counts.
"$bin/embed_eval" --model "$work/A" --pairs "$pairs" --out "$work/eval.json" 2>"$work/eval.err"
for k in accuracy items judged correct skipped_unknown unknown_words per_category color shape size; do
  grep -q "\"$k\"" "$work/eval.json" || fail "eval.json lacks $k"
done
grep -q "skipped for unknown words" "$work/eval.err" || fail "embed_eval does not report skipped items"
# An unknown word is skipped and counted, never silently.
printf 'red\torange\tblue\tA\tcolor\nred\tmauve\tblue\tA\tcolor\n' >"$work/unk.tsv"
"$bin/embed_eval" --model "$work/A" --pairs "$work/unk.tsv" --out "$work/unk.json" 2>/dev/null
grep -q '"skipped_unknown": 1' "$work/unk.json" || fail "the unknown word was not counted"
grep -q '"mauve"' "$work/unk.json" || fail "unknown_words does not name mauve"
# Related pairs with sampled negatives: same seed, same JSON.
printf 'red\torange\nblue\tpurple\nsmall\tlarge\ncircle\tsquare\n' >"$work/rel.tsv"
"$bin/embed_eval" --model "$work/A" --related "$work/rel.tsv" --seed 4 --out "$work/r1.json" 2>/dev/null
"$bin/embed_eval" --model "$work/A" --related "$work/rel.tsv" --seed 4 --out "$work/r2.json" 2>/dev/null
cmp -s "$work/r1.json" "$work/r2.json" || fail "sampled negatives differ under the same seed"
grep -q '"mode": "related_pairs_sampled_negatives"' "$work/r1.json" || fail "r1.json lacks the mode"

# Export: word2vec text, .npy and words that agree; the text reads back through --vectors.
"$bin/embed_export" --model "$work/A" --out "$work/export" >/dev/null
read -r V D <"$work/export/embeddings.txt"
((D == 16)) || fail "word2vec header says D = $D, expected 16"
(( $(wc -l <"$work/export/words.txt") == V )) || fail "words.txt does not have V = $V lines"
(( $(wc -l <"$work/export/embeddings.txt") == V + 1 )) || fail "embeddings.txt does not have V + 1 lines"
! grep -q '^<pad>\|^<unk>' "$work/export/embeddings.txt" || fail "special tokens were exported"
head -c 6 "$work/export/embeddings.npy" | grep -q "NUMPY" || fail "embeddings.npy is not a .npy file"
"$bin/embed_eval" --vectors "$work/export/embeddings.txt" --pairs "$pairs" --out "$work/eval_vec.json" 2>/dev/null
[[ $(grep '"accuracy"' "$work/eval.json" | head -1) == $(grep '"accuracy"' "$work/eval_vec.json" | head -1) ]] ||
  fail "the exported vectors do not give the model's accuracy"
# Neighbours.
"$bin/embed_neighbors" --model "$work/A" red "large circle" -k 3 >"$work/nb.txt"
grep -q "^red: " "$work/nb.txt" || fail "no neighbours for red"
grep -q "^large circle: " "$work/nb.txt" || fail "no neighbours for the phrase"
(( $(head -1 "$work/nb.txt" | wc -w) == 7 )) || fail "-k 3 did not print 3 neighbours: $(head -1 "$work/nb.txt")"
! head -1 "$work/nb.txt" | grep -q " red " || fail "red is its own neighbour"

# Bad input.
printf 'red\torange\tblue\tA\nred\torange\tblue\n' >"$work/bad.tsv"
expect_error "bad.tsv:2: expected 4 or 5 tab-separated fields" "$bin/embed_eval" --model "$work/A" --pairs "$work/bad.tsv"
printf 'red\torange\tblue\tX\n' >"$work/bad2.tsv"
expect_error "bad2.tsv:1: the answer field is 'X', expected A or B" "$bin/embed_eval" --model "$work/A" --pairs "$work/bad2.tsv"
printf 'red\n' >"$work/bad3.tsv"
expect_error "bad3.tsv:1: expected 2 or 3 tab-separated fields" "$bin/embed_eval" --model "$work/A" --related "$work/bad3.tsv"
printf 'mauve\tteal\tcyan\tA\n' >"$work/allunk.tsv"
expect_error "no item could be judged" "$bin/embed_eval" --model "$work/A" --pairs "$work/allunk.tsv"
expect_error "empty vocabulary" "$bin/embed_train" --model A "${data[@]}" --out "$work/x1" --max-steps 1 --quiet --min-count 100000
cp -r "$work/A" "$work/damaged"
sed -i 's/"embed": 16/"embed": 8/' "$work/damaged/config.json"
expect_error "dimension mismatch" "$bin/embed_export" --model "$work/damaged" --out "$work/x2"
printf '2 3\nred 1 2 3\nblue 1 2\n' >"$work/bad.w2v"
expect_error "bad.w2v:3: dimension mismatch" "$bin/embed_eval" --vectors "$work/bad.w2v" --pairs "$pairs"
expect_error "'mauve' is not in the vocabulary" "$bin/embed_neighbors" --model "$work/A" mauve
expect_error "--no-visual is model A's" "$bin/embed_train" --model B --no-visual "${data[@]}" --out "$work/x3" --quiet
expect_error "exactly one of --pairs" "$bin/embed_eval" --model "$work/A" --pairs "$pairs" --related "$work/rel.tsv"
expect_error "shapes/config.json: cannot open file (is this a model folder written by embed_train?)" \
  "$bin/embed_export" --model "$work/shapes" --out "$work/x4"
echo '{"model": "m-rnn", "vocab": 40}' >"$work/damaged/config.json"
expect_error "damaged/config.json: field 'model' is \"m-rnn\", expected \"embed\"" \
  "$bin/embed_neighbors" --model "$work/damaged" red
out=$("$bin/embed_train" --model A "${data[@]}" --out "$work/x5" --device cuda 2>&1) && fail "--device cuda accepted"
grep -qi "cuda" <<<"$out" || fail "--device cuda message: $out"
for d in x1 x2 x3 x4 x5; do [[ ! -e "$work/$d" ]] || fail "a failed run left $work/$d behind"; done
echo "embed: programs OK"
