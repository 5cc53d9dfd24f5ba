#!/usr/bin/env bash
# Bad-input survey of the example programs: each kind of bad flag, file or combination must end in
# a non-zero exit (not a crash) with a message naming the flag or the file and what was expected,
# and must leave nothing half-written behind (no output file, no half-made model folder).
# Also: a resume whose newest checkpoint is bit-flipped or truncated falls back to the previous
# checkpoint with a warning naming the bad file. docs/reliability.md lists the kinds.
# Usage: bad_input.sh BIN_DIR WORK_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin=$(cd "$1" && pwd) work=$2
rm -rf "$work"; mkdir -p "$work"; cd "$work"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

n=0
# check KIND PATTERN LEFTOVER COMMAND...: COMMAND exits with 1..127 (an error, not a signal), its
# output matches the extended regex PATTERN, and LEFTOVER ("-" for none) does not exist afterwards.
check() {
  local kind=$1 pat=$2 left=$3 out rc=0
  shift 3
  out=$("$@" 2>&1) || rc=$?
  ((rc != 0)) || fail "[$kind] exited 0: $*"
  ((rc < 128)) || fail "[$kind] died with signal $((rc - 128)): $* -> $out"
  ! grep -q "Sanitizer" <<<"$out" || fail "[$kind] sanitizer report: $out"
  grep -qE -- "$pat" <<<"$out" || fail "[$kind] the message does not match '$pat': $out"
  [[ $left == - || ! -e $left ]] || fail "[$kind] $left was left behind"
  n=$((n + 1))
  printf '%2d %-44s %s\n' "$n" "$kind" "$(grep -m1 -E -- "$pat" <<<"$out" | cut -c1-160)"
}
# write_npy FILE ROWS COLS [DESCR]: a .npy of zeros (header per the NumPy format spec, version 1.0)
write_npy() {
  local f=$1 r=$2 c=$3 d=${4:-<f4} h len pad
  h="{'descr': '$d', 'fortran_order': False, 'shape': ($r, $c), }"
  len=$((${#h} + 1))
  pad=$(((64 - (10 + len) % 64) % 64))
  h="$h$(printf '%*s' "$pad" '')"
  len=$((len + pad))
  {
    printf '\x93NUMPY\x01\x00'
    printf '%b' "\\x$(printf %02x $((len % 256)))\\x$(printf %02x $((len / 256)))"
    printf '%s\n' "$h"
    head -c $((r * c * 4)) /dev/zero
  } >"$f"
}
flip_byte() {  # flip_byte FILE OFFSET: flips the lowest bit of one byte in place
  local b
  b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  printf '%b' "\\x$(printf %02x $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# ---- fixtures: a tiny ShapesWorld (20 images), a CNN model and a features model -----------------
"$bin/make_shapes" --out shapes --seed 3 --train 12 --val 4 --test 4 --novel 0 --quiet >/dev/null
data=shapes/dataset_shapes.json img=shapes/images/shapes_000000.png
small=(--embed1 8 --embed2 8 --rnn-size 8 --multimodal 8 --max-steps 4 --batch 8 --val-every 2 --val-images 2 --quiet)
more=(--max-steps 6 --batch 8 --val-every 2 --val-images 2 --quiet)  # continuing a run of `small`
"$bin/caption_train" --data $data --images shapes/images --out model --image-dim 8 --image-size 16 "${small[@]}" >/dev/null 2>&1
write_npy feats.npy 20 8
"$bin/caption_train" --data $data --features feats.npy --out fmodel "${small[@]}" >/dev/null 2>&1
for f in model/model.safetensors model/checkpoint-2.safetensors model/checkpoint-4.safetensors fmodel/config.json; do
  [[ -s $f ]] || fail "fixture $f was not written"
done
copy_model() { rm -rf "$1"; cp -a model "$1"; }  # -a keeps the hard link checkpoint.safetensors
train=("$bin/caption_train" --data "$data" --images shapes/images)

echo "kind                                          message"
# ---- flags ----------------------------------------------------------------------------------------
check "unknown flag" "not expected: --bogus" out1 "${train[@]}" --out out1 --bogus
check "missing required flag" "--model is required" - "$bin/caption_eval" --data $data
check "non-integer value" "--batch: 'abc' is not an integer" out1 "${train[@]}" --out out1 --batch abc
check "zero where positive is needed (--beam 0)" "--beam: 0 is not >= 1" - "$bin/caption_generate" --model model --beam 0 $img
check "negative count" "--max-steps: -3 is not >= 0" out1 "${train[@]}" --out out1 --max-steps -3
check "NaN learning rate" "--lr: 'nan' is not a finite number" out1 "${train[@]}" --out out1 --lr nan
check "probability out of range" "--dropout: 1.5 is not in \[0, 1\)" out1 "${train[@]}" --out out1 --dropout 1.5
check "unknown choice" "--optimizer: rmsprop not in" out1 "${train[@]}" --out out1 --optimizer rmsprop
check "unknown split (caption_generate)" "--split: bogus not in" - "$bin/caption_generate" --model model --data $data --images shapes/images --split bogus
check "unknown device (--device gpu)" "--device: device 'gpu' is not one of: cpu, cuda, cuda:N" - \
  "$bin/caption_generate" --model model --device gpu $img
if ! nvidia-smi -L >/dev/null 2>&1; then  # no GPU here: every program refuses cuda before any work
  check "--device cuda without a GPU (caption_generate)" "cuda:0 requested but" - \
    "$bin/caption_generate" --model model --device cuda $img
  for p in caption_eval retrieve; do
    check "--device cuda without a GPU ($p)" "cuda:0 requested but" - \
      "$bin/$p" --model model --data $data --images shapes/images --device cuda
  done
  check "--device cuda without a GPU (caption_train)" "cuda:1 requested but" out-dev \
    "$bin/caption_train" --data $data --images shapes/images --out out-dev --device cuda:1
fi
# Every program that trains or runs a model (each family: captioning, retrieval, NVCS, embeddings,
# mQA, refexp) refuses --device cuda before any work when it cannot have it; in a build without the
# CUDA backend the message names the build.
probe=$("$bin/caption_generate" --device cuda 2>&1 || true)
if grep -q "CUDA backend is not available" <<<"$probe"; then
  dev_pat="cuda:0 requested but the CUDA backend is not available: this build has no CUDA backend"
else
  dev_pat="cuda:0 requested but"
fi
if ! nvidia-smi -L >/dev/null 2>&1 || grep -q "CUDA backend is not available" <<<"$probe"; then
  for p in caption_train caption_eval caption_generate retrieve nvcs_train nvcs_eval embed_train mqa_train \
           mqa_answer mqa_eval refexp_train refexp_comprehend refexp_generate; do
    check "--device cuda, no GPU or no CUDA build ($p)" "$dev_pat" - "$bin/$p" --device cuda
  done
fi
check "unknown split (eval_captions)" "--split: bogus not in" - "$bin/eval_captions" --refs $data --results $data --split bogus
check "both --images and --features" "exactly one of --images" out1 "$bin/caption_train" --data $data --images shapes/images --features feats.npy --out out1
check "both --text and --image" "exactly one of --text or --image" - "$bin/retrieve" --model model --data $data --images shapes/images --text "a circle" --image $img
check "query with no words" "--text has no words" - "$bin/retrieve" --model model --data $data --images shapes/images --text "  "
check "layer too small for the CNN" "image size 2 is too small" out1 "${train[@]}" --out out1 --image-size 2 --quiet
check "inconsistent generator options" "min_objects/max_objects" out2 "$bin/make_shapes" --out out2 --min-objects 3 --max-objects 2
# ---- input files ----------------------------------------------------------------------------------
check "missing dataset file" "--data: File does not exist: nope.json" out1 "$bin/caption_train" --data nope.json --images shapes/images --out out1
printf '{"images": [{"split": "train", "filename": "a.png", "sentences": [' >trunc.json
check "truncated JSON dataset" "trunc.json: invalid JSON" out1 "$bin/caption_train" --data trunc.json --images shapes/images --out out1
echo '{"images": 3}' >types.json
check "dataset field of the wrong type" "types.json.*images" out1 "$bin/caption_train" --data types.json --images shapes/images --out out1
echo '{"images": []}' >empty.json
check "empty dataset" "empty.json: the train split has no captions" out1 "$bin/caption_train" --data empty.json --images shapes/images --out out1
check "image folder missing" "nowhere/shapes_000000.png: cannot open" out1 "$bin/caption_train" --data $data --images nowhere --out out1
echo "not a png" >fake.png
check "image that is not an image" "fake.png: not a PNG, JPEG or BMP" res.json \
  "$bin/caption_generate" --model model $img fake.png --results res.json
head -c 300 $img >trunc.png
check "truncated PNG" "trunc.png: cannot decode PNG" - "$bin/caption_generate" --model model trunc.png
write_npy rows.npy 19 8
check "npy with the wrong row count" "rows.npy: expected features \[20 images" out1 "$bin/caption_train" --data $data --features rows.npy --out out1
write_npy str.npy 20 8 '<U1'
check "npy of an unsupported dtype" "str.npy: .npy header field 'descr'" out1 "$bin/caption_train" --data $data --features str.npy --out out1
echo hello >text.npy
check "file that is not an npy" "text.npy: .npy field 'magic'" out1 "$bin/caption_train" --data $data --features text.npy --out out1
echo '{"a": 1}' >bad.json
check "results file that is not an array" "bad.json: expected an array" scores.json "$bin/eval_captions" --refs $data --results bad.json --out scores.json
echo '[{"image_id": 999, "caption": "a circle"}]' >unknown.json
check "results for an unknown image" "image_id 999 has no references" scores.json "$bin/eval_captions" --refs $data --results unknown.json --out scores.json
echo '[{"image_id": 1, "caption": "a"}, {"image_id": 1, "caption": "b"}]' >dup.json
check "two results for one image" "dup.json: \[1\]\.image_id: duplicate image_id 1" scores.json "$bin/eval_captions" --refs $data --results dup.json --out scores.json
# ---- model folders --------------------------------------------------------------------------------
check "model folder missing" "nomodel/config.json: cannot open" - "$bin/caption_generate" --model nomodel $img
copy_model m1; echo '{"vocab": 46, ' >m1/config.json
check "config.json not valid JSON" "m1/config.json: not valid JSON" - "$bin/caption_generate" --model m1 $img
copy_model m2; sed -i 's/"embed1": 8/"embed1": "big"/' m2/config.json
check "config.json field of the wrong type" "m2/config.json: field 'embed1' must be an integer" - "$bin/caption_generate" --model m2 $img
copy_model m3; sed -i 's/"rnn_type": "relu"/"rnn_type": "transformer"/' m3/config.json
check "config.json unknown value" "m3/config.json: field 'rnn_type' is 'transformer', expected one of" - "$bin/caption_generate" --model m3 $img
copy_model m11; sed -i 's/"image_size": 16/"image_size": 4000000000000/' m11/config.json
check "config.json size out of bounds" "m11/config.json: field 'image_size' is 4000000000000, at most 8192" - \
  "$bin/caption_generate" --model m11 $img
copy_model m4; head -n 20 model/vocab.txt >m4/vocab.txt
check "vocabulary / model mismatch" "m4/vocab.txt has 20 tokens but m4/config.json says vocab" - "$bin/caption_generate" --model m4 $img
copy_model m5; rm m5/vocab.txt
check "vocabulary file missing" "m5/vocab.txt' cannot be read" - "$bin/caption_generate" --model m5 $img
copy_model m6; sed -i 's/"embed1": 8/"embed1": 9/' m6/config.json
check "weights / config mismatch" "m6/model.safetensors: .*'embed.weight' has shape" - "$bin/caption_generate" --model m6 $img
copy_model m7; flip_byte m7/model.safetensors $(($(stat -c %s m7/model.safetensors) - 7))
check "bit-flipped weights" "m7/model.safetensors: checksum mismatch" - "$bin/caption_generate" --model m7 $img
copy_model m8; truncate -s 1000 m8/model.safetensors
check "truncated weights" "m8/model.safetensors: .*truncated" - "$bin/caption_generate" --model m8 $img
check "features of the wrong width" "dim.npy: features have 5 columns but fmodel/config.json says image_dim = 8" res.json \
  "$bin/caption_generate" --model fmodel --data $data --features "$(write_npy dim.npy 20 5; echo dim.npy)" --results res.json
check "features for an image model" 'model/config.json says image_input = "cnn"' metrics.json \
  "$bin/caption_eval" --model model --data $data --images shapes/images --features feats.npy --out metrics.json
check "images for a features model (resume)" 'fmodel/config.json says image_input = "features"' - \
  "${train[@]}" --out fmodel --resume "${more[@]}"
check "resume into a folder that is not a model" "shapes/config.json: cannot open file \(is this a model directory" - \
  "${train[@]}" --out shapes --resume "${more[@]}"
copy_model m9; rm m9/checkpoint*.safetensors
check "resume without a checkpoint" "m9 holds no checkpoint" - "${train[@]}" --out m9 --resume "${more[@]}"
copy_model m10
check "resume with another batch size" "checkpoint-4.safetensors was written with --batch 8 --seed 1, but this run has --batch 64 --seed 1" - \
  "${train[@]}" --out m10 --resume --max-steps 6
for f in m10/checkpoint-*.safetensors; do flip_byte "$f" $(($(stat -c %s "$f") - 3)); done
check "resume with every checkpoint corrupt" "none of the checkpoints in m10 can be used" - \
  "${train[@]}" --out m10 --resume "${more[@]}"
# ---- outputs --------------------------------------------------------------------------------------
check "output folder missing" "--results: the folder 'nowhere' of 'nowhere/r.json' does not exist" - \
  "$bin/caption_generate" --model model $img --results nowhere/r.json
mkdir -p adir
check "output path is a folder" "--out: 'adir' is a folder" - "$bin/eval_captions" --refs $data --results bad.json --out adir
check "output folder is a file" "cannot create output folder 'fake.png/images'" - "$bin/make_shapes" --out fake.png --train 1 --val 0 --test 0 --novel 0
((n >= 20)) || fail "only $n kinds of bad input"

# ---- a corrupt newest checkpoint costs a few steps, not the run -----------------------------------
for damage in flip truncate; do
  copy_model "r_$damage"
  newest="r_$damage/checkpoint-4.safetensors"
  if [[ $damage == flip ]]; then flip_byte "$newest" $(($(stat -c %s "$newest") - 3)); else truncate -s 2000 "$newest"; fi
  out=$("${train[@]}" --out "r_$damage" --resume "${more[@]}" 2>&1) || fail "resume after a $damage: $out"
  grep -qE "warning: checkpoint r_$damage/checkpoint-4.safetensors cannot be used" <<<"$out" || fail "no warning: $out"
  grep -q "resuming from r_$damage/checkpoint-2.safetensors instead" <<<"$out" || fail "no fallback: $out"
  grep -q '"event":"resume","step":2,' "r_$damage/log.jsonl" || fail "the $damage resume did not restart at step 2"
  [[ -e "$newest.corrupt" && -e "r_$damage/checkpoint-6.safetensors" ]] || fail "after the $damage: $(ls "r_$damage")"
  echo "corrupt newest checkpoint ($damage): $(grep -m1 'cannot be used' <<<"$out" | cut -c1-150)"
done
# ---- NaN in the data: --nan-policy stop reports and exits 1, skip goes on and counts -----------
# nan.npy: the features of feats.npy with image 0's row NaN (f4 0x7fc00000, little-endian), so only
# the batches holding one of image 0's captions have a non-finite loss.
cp feats.npy nan.npy
for ((i = 0; i < 8; i++)); do
  printf '\x00\x00\xc0\x7f' | dd of=nan.npy bs=1 seek=$(($(stat -c %s nan.npy) - 20 * 8 * 4 + 4 * i)) conv=notrunc status=none
done
nan_train=("$bin/caption_train" --data "$data" --features nan.npy --embed1 8 --embed2 8 --rnn-size 8 --multimodal 8
           --max-steps 8 --batch 8 --val-every 2 --val-images 2 --quiet --seed 5)
check "NaN in the features (--nan-policy stop)" \
  "train: non-finite loss at step [0-9]+ \(loss nan; .*stopping \(use --nan-policy skip.*(the last good checkpoint is nan1/checkpoint-[0-9]+\.safetensors|no checkpoint has been written yet)" \
  - "${nan_train[@]}" --out nan1
grep -q '"event":"nonfinite",.*"what":"loss".*"action":"stop"' nan1/log.jsonl || fail "no nonfinite event in nan1/log.jsonl"
out=$("${nan_train[@]}" --out nan2 --nan-policy skip 2>&1) || fail "--nan-policy skip did not finish: $out"
! grep -q "Sanitizer" <<<"$out" || fail "--nan-policy skip: sanitizer report: $out"
skips=$(grep -c '"event":"nonfinite"' nan2/log.jsonl || true)
((skips >= 1 && skips < 8)) || fail "--nan-policy skip: $skips of 8 steps skipped (expected some, not all)"
grep -q "\"step\":8,.*\"skipped_steps\":$skips" nan2/log.jsonl || fail "the last train event does not count $skips skips"
grep -q "$skips steps of this run had a non-finite loss or gradient and were skipped" <<<"$out" || fail "no skip summary: $out"
echo "NaN in the features, --nan-policy skip: $skips of 8 steps skipped and counted in nan2/log.jsonl"
echo "bad input: $n kinds, each a clear message and a non-zero exit, nothing left behind"
