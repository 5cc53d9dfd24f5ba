#!/usr/bin/env bash
# End to end through the example programs on a tiny ShapesWorld: every program answers --help,
# the pipeline make_shapes -> caption_train -> caption_generate -> eval_captions -> caption_eval
# -> retrieve and extract_features -> caption_train --features runs, and bad input gives a clear message and a non-zero exit.
# Usage: end_to_end.sh BIN_DIR WORK_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin=$1 work=$2
rm -rf "$work"; mkdir -p "$work"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

for p in make_shapes caption_train caption_generate caption_eval eval_captions retrieve extract_features; do
  "$bin/$p" --help >/dev/null || fail "$p --help"
done

"$bin/make_shapes" --out "$work/shapes" --seed 3 --train 60 --val 10 --test 10 --novel 0 >/dev/null 2>&1
"$bin/caption_train" --data "$work/shapes/dataset_shapes.json" --images "$work/shapes/images" --out "$work/model" \
  --max-steps 8 --batch 16 --val-every 4 --val-images 5 --embed1 16 --embed2 32 --rnn-size 32 --multimodal 32 \
  --image-dim 32 --quiet >/dev/null
for f in config.json vocab.txt model.safetensors checkpoint.safetensors log.jsonl; do
  [[ -s "$work/model/$f" ]] || fail "caption_train did not write $f"
done
grep -q '"event":"val"' "$work/model/log.jsonl" || fail "no validation line in log.jsonl"
# Resume continues from the checkpoint to a larger step count.
"$bin/caption_train" --data "$work/shapes/dataset_shapes.json" --images "$work/shapes/images" --out "$work/model" \
  --max-steps 12 --batch 16 --val-every 4 --val-images 5 --resume --quiet >/dev/null
grep -q '"event":"resume"' "$work/model/log.jsonl" || fail "resume not logged"

"$bin/caption_generate" --model "$work/model" --data "$work/shapes/dataset_shapes.json" --images "$work/shapes/images" \
  --split test --results "$work/results.json" >/dev/null
"$bin/caption_generate" --model "$work/model" "$work/shapes/images/shapes_000000.png" --method sample --top-k 3 >/dev/null
# bf16 decoding (--precision): the same images captioned, nearly always with the same words; where
# this machine cannot run bf16 the program must say so in one line and decode in fp32.
"$bin/caption_generate" --model "$work/model" --data "$work/shapes/dataset_shapes.json" --images "$work/shapes/images" \
  --split test --method greedy --results "$work/greedy_fp32.json" >/dev/null 2>&1
"$bin/caption_generate" --model "$work/model" --data "$work/shapes/dataset_shapes.json" --images "$work/shapes/images" \
  --split test --method greedy --precision bf16 --results "$work/greedy_bf16.json" >/dev/null 2>"$work/bf16.err" \
  || fail "caption_generate --precision bf16: $(cat "$work/bf16.err")"
caps() { grep -o '"caption": *"[^"]*"' "$1"; }
n_fp=$(caps "$work/greedy_fp32.json" | wc -l)
n_same=$(paste -d'|' <(caps "$work/greedy_fp32.json") <(caps "$work/greedy_bf16.json") | awk -F'|' '$1 == $2' | wc -l)
((n_fp > 0)) || fail "no greedy captions in greedy_fp32.json"
((2 * n_same >= n_fp)) || fail "bf16 greedy captions differ from fp32 on $((n_fp - n_same)) of $n_fp images"
if grep -q "unavailable" "$work/bf16.err"; then
  echo "note: bf16 unavailable here: $(cat "$work/bf16.err")"
  ((n_same == n_fp)) || fail "the fp32 fallback gave other captions than fp32"
fi
"$bin/eval_captions" --refs "$work/shapes/dataset_shapes.json" --split test --results "$work/results.json" \
  --out "$work/scores.json" >/dev/null
grep -q cider_d "$work/scores.json" || fail "eval_captions wrote no CIDEr-D"
"$bin/caption_eval" --model "$work/model" --data "$work/shapes/dataset_shapes.json" --images "$work/shapes/images" \
  --split test --prior-images 10 --out "$work/metrics.json" --report "$work/report" >/dev/null 2>&1
for k in perplexity bleu4 cider_d image_retrieval sentence_retrieval sentence_retrieval_unnormalized with_tws \
         scene_check scene_correct parsed_percent mean_words; do
  grep -q "\"$k\"" "$work/metrics.json" || fail "metrics.json lacks $k"
done
grep -q "<svg" "$work/report/report.html" || fail "report has no loss curve"
for k in ">Greedy<" ">Sentence retrieval<" ">Validation CIDEr-D<" "class=card"; do
  grep -q "$k" "$work/report/report.html" || fail "report lacks $k"
done
top=$("$bin/retrieve" --model "$work/model" --data "$work/shapes/dataset_shapes.json" --images "$work/shapes/images" \
  --text "a red circle" --top-k 3)
grep -q png <<<"$top" || fail "retrieve --text"

# extract_features: the CNN's features of every image of the JSON (80 = 60 + 10 + 10, image_dim 32),
# in the layout --features reads; a feature-input caption model trains on them; a model without a
# CNN is refused naming its config.
"$bin/extract_features" --model "$work/model" --data "$work/shapes/dataset_shapes.json" --images "$work/shapes/images" \
  --out "$work/feats.npy" --batch 7 --quiet >/dev/null
head -c 128 "$work/feats.npy" | grep -aq "'shape': (80, 32)" || fail "extract_features: not an [80, 32] .npy"
"$bin/extract_features" --model "$work/model" --random-init --data "$work/shapes/dataset_shapes.json" \
  --images "$work/shapes/images" --out "$work/feats_random.npy" --quiet >/dev/null
head -c 128 "$work/feats_random.npy" | grep -aq "'shape': (80, 32)" || fail "extract_features --random-init: not [80, 32]"
cmp -s "$work/feats.npy" "$work/feats_random.npy" && fail "--random-init gave the trained CNN's features"
# Rows follow imgid, as the readers look them up: with the imgids of two images swapped, row 0 holds
# shapes_000001.png's features (row 1 of the file-order run; both headers are 128 bytes).
cat >"$work/swapped.json" <<'J'
{"images": [{"filename": "shapes_000000.png", "imgid": 1, "split": "train", "sentences": [{"tokens": ["a"], "raw": "a"}]},
            {"filename": "shapes_000001.png", "imgid": 0, "split": "train", "sentences": [{"tokens": ["b"], "raw": "b"}]}]}
J
"$bin/extract_features" --model "$work/model" --data "$work/swapped.json" --images "$work/shapes/images" \
  --out "$work/feats_swapped.npy" --quiet >/dev/null
cmp -s -i 128:256 -n 128 "$work/feats_swapped.npy" "$work/feats.npy" || fail "extract_features: row 0 is not imgid 0's image"
sed 's/"imgid": 0/"imgid": 5/' "$work/swapped.json" >"$work/gap.json"
expect_error "imgids must be 0..1" "$bin/extract_features" --model "$work/model" --data "$work/gap.json" \
  --images "$work/shapes/images" --out "$work/f4.npy"
"$bin/caption_train" --data "$work/shapes/dataset_shapes.json" --features "$work/feats.npy" --out "$work/fmodel" \
  --max-steps 2 --batch 16 --val-images 5 --embed1 16 --embed2 32 --rnn-size 32 --multimodal 32 --quiet >/dev/null
expect_error 'config.json: image_input is "features"' "$bin/extract_features" --model "$work/fmodel" \
  --data "$work/shapes/dataset_shapes.json" --images "$work/shapes/images" --out "$work/f2.npy"
expect_error "no_such_dir" "$bin/extract_features" --model "$work/model" \
  --data "$work/shapes/dataset_shapes.json" --images "$work/no_such_dir" --out "$work/f3.npy"
[[ ! -e "$work/f3.npy" ]] || fail "extract_features left a file behind after failing"

# Bad input: a clear message naming the problem and a non-zero exit (lib.sh expect_error).
grep -q '"scene_correct"' "$work/model/log.jsonl" || fail "validation did not check captions against the scene file"
"$bin/caption_eval" --model "$work/model" --data "$work/shapes/dataset_shapes.json" --images "$work/shapes/images" \
  --split val --sweep-beams 1,2 --sweep-penalties 0,1 --out "$work/sweep.json" >/dev/null 2>&1 || fail "caption_eval --sweep-beams"
[[ $(grep -c '"length_penalty"' "$work/sweep.json") == 3 ]] || fail "the sweep has not 3 rows (greedy once, beam 2 twice)"
echo '{"vocabulary": {"shapes": {"circle": "circles"}}, "images": [{"file_name": "x.png", "width": 4, "height": 4, "objects": []}]}' \
  >"$work/scenes_other.json"
expect_error "scenes_other.json: images: no scene for image" "$bin/caption_eval" --model "$work/model" \
  --data "$work/shapes/dataset_shapes.json" --images "$work/shapes/images" --scenes "$work/scenes_other.json"
echo '{"vocabulary": {"shapes": {}}, "images": []}' >"$work/scenes_bad.json"
expect_error "scenes_bad.json: vocabulary.shapes: expected at least one shape word" "$bin/caption_eval" --model "$work/model" \
  --data "$work/shapes/dataset_shapes.json" --images "$work/shapes/images" --scenes "$work/scenes_bad.json"
expect_error "config.json" "$bin/caption_eval" --model "$work/nope" --data "$work/shapes/dataset_shapes.json" --images x
echo '{"images": 3}' >"$work/bad.json"
expect_error "bad.json" "$bin/caption_train" --data "$work/bad.json" --images x --out "$work/m2" --quiet
expect_error "exactly one of --images" "$bin/caption_train" --data "$work/shapes/dataset_shapes.json" --out "$work/m3"
expect_error "no_such.png" "$bin/caption_generate" --model "$work/model" "$work/no_such.png"
expect_error "bad.json: expected an array" "$bin/eval_captions" --refs "$work/shapes/dataset_shapes.json" --results "$work/bad.json"
echo "end-to-end: all programs OK"
