#!/usr/bin/env bash
# NVCS through the programs on a tiny ShapesWorld: nvcs_train teaches a tiny base model the novel
# shapes (BPF and its ablations, tied and untied), writes a model folder the other programs load,
# nvcs_eval writes novel F1 and base metrics as JSON, and bad input fails clearly: an untied base
# without --no-tws-base, a novel word the model knows, a concept without training images,
# --examples beyond what exists, a GPU device.
# Usage: nvcs.sh BIN_DIR WORK_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin=$1 work=$2
rm -rf "$work"; mkdir -p "$work"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

for p in nvcs_train nvcs_eval; do
  help=$("$bin/$p" --help)  # captured first: grep -q would close the pipe early (SIGPIPE under pipefail)
  grep -q -- "--examples\|--base-data" <<<"$help" || fail "$p --help"
done
help=$("$bin/nvcs_train" --help)
grep -q "default\|=" <<<"$help" || fail "nvcs_train --help shows no defaults"

s=$work/shapes
"$bin/make_shapes" --out "$s" --seed 3 --train 60 --val 10 --test 10 --novel 16 --quiet >/dev/null
small=(--max-steps 8 --batch 16 --val-images 5 --embed1 16 --embed2 32 --rnn-size 32 --multimodal 32 --image-dim 32
       --min-count 1 --quiet)
"$bin/caption_train" --data "$s/dataset_shapes.json" --images "$s/images" --out "$work/base" "${small[@]}" >/dev/null
"$bin/caption_train" --data "$s/dataset_shapes.json" --images "$s/images" --out "$work/untied" "${small[@]}" --no-tws \
  >/dev/null
nvc=(--data "$s/dataset_shapes_nvc.json" --images "$s/images")
base=(--base-data "$s/dataset_shapes.json")

# BPF-TWS: writes a normal model folder plus nvcs.json.
"$bin/nvcs_train" --model "$work/base" "${nvc[@]}" "${base[@]}" --out "$work/bpf" --examples 4 --epochs 3 --batch 8 \
  --quiet >"$work/bpf.out"
for f in config.json vocab.txt model.safetensors log.jsonl nvcs.json; do
  [[ -s "$work/bpf/$f" ]] || fail "nvcs_train did not write $f"
done
grep -q '"centralize_from"' "$work/bpf/config.json" || fail "config.json lacks centralize_from"
for w in star stars hexagon hexagons; do
  tail -n 4 "$work/bpf/vocab.txt" | grep -qx "$w" || fail "vocab.txt lacks the new word $w"
  grep -q "^$w -> " "$work/bpf.out" || fail "no nearest words printed for $w"
done
grep -q '"neighbours"' "$work/bpf/nvcs.json" || fail "nvcs.json lacks neighbours"
grep -q '"base_mix_images": 8' "$work/bpf/nvcs.json" || fail "--base-mix -1 did not mix as many base images as novel ones"
# The ablations: bias trained, no centring (no base data needed), untied base.
"$bin/nvcs_train" --model "$work/base" "${nvc[@]}" --out "$work/nobpf" --no-fixed-bias --no-centralize --base-mix 0 --examples 4 \
  --epochs 2 --quiet >/dev/null
! grep -q '"centralize_from"' "$work/nobpf/config.json" || fail "--no-centralize wrote centralize_from"
"$bin/nvcs_train" --model "$work/untied" --no-tws-base "${nvc[@]}" "${base[@]}" --out "$work/untied_bpf" --examples 4 \
  --epochs 2 --quiet >/dev/null

# The other programs load the NVCS folder unchanged.
"$bin/caption_generate" --model "$work/bpf" "$s/images/shapes_000080.png" >/dev/null
"$bin/caption_eval" --model "$work/bpf" --data "$s/dataset_shapes.json" --images "$s/images" --split test \
  --out "$work/ce.json" >/dev/null 2>&1 || fail "caption_eval on the NVCS model"
"$bin/nvcs_eval" --model "$work/bpf" "${nvc[@]}" "${base[@]}" --before "$work/base" --out "$work/eval.json" >/dev/null
for k in novel_f1 per_concept star hexagon tp fp fn novel base base_before base_cider_d_change cider_d neighbours; do
  grep -q "\"$k\"" "$work/eval.json" || fail "eval.json lacks $k"
done
"$bin/nvcs_eval" --model "$work/untied_bpf" "${nvc[@]}" "${base[@]}" --out "$work/eval_untied.json" >/dev/null

# Bad input.
expect_error "config.json: field 'tws' is false" \
  "$bin/nvcs_train" --model "$work/untied" "${nvc[@]}" "${base[@]}" --out "$work/x1" --quiet
expect_error "'tws' is true" \
  "$bin/nvcs_train" --model "$work/base" --no-tws-base "${nvc[@]}" "${base[@]}" --out "$work/x2" --quiet
expect_error "--examples 100: concept \"star\" has only" \
  "$bin/nvcs_train" --model "$work/base" "${nvc[@]}" "${base[@]}" --out "$work/x3" --examples 100 --quiet
cat >"$work/known.json" <<'J'
{"version": "201509", "concepts": ["circle"], "images": [
 {"concept": "circle", "image_id": 1, "image_name": "c1", "train_val_test_split": "train",
  "sentences": [{"tokens": ["a", "circle"], "raw": "a circle"}]},
 {"concept": "circle", "image_id": 2, "image_name": "c2", "train_val_test_split": "test",
  "sentences": [{"tokens": ["a", "circle"], "raw": "a circle"}]}]}
J
expect_error "known.json: concept \"circle\": its word \"circle\" is already in the vocabulary" \
  "$bin/nvcs_train" --model "$work/base" --data "$work/known.json" --images "$s/images" "${base[@]}" --out "$work/x4" --quiet
cat >"$work/no_train.json" <<'J'
{"version": "201509", "concepts": ["kite"], "images": [
 {"concept": "kite", "image_id": 1, "image_name": "k1", "train_val_test_split": "test",
  "sentences": [{"tokens": ["a", "kite"], "raw": "a kite"}]}]}
J
expect_error "no_train.json: concept \"kite\" has no training images" \
  "$bin/nvcs_train" --model "$work/base" --data "$work/no_train.json" --images "$s/images" "${base[@]}" --out "$work/x5" --quiet
expect_error "--base-data" "$bin/nvcs_train" --model "$work/base" "${nvc[@]}" --out "$work/x6" --quiet
expect_error "centralize_from" \
  "$bin/nvcs_train" --model "$work/bpf" "${nvc[@]}" "${base[@]}" --out "$work/x7" --quiet
grep -q "cuda" <<<"$help" || fail "no --device option"
out=$("$bin/nvcs_train" --model "$work/base" "${nvc[@]}" "${base[@]}" --out "$work/x8" --device cuda 2>&1) &&
  fail "--device cuda accepted"
grep -qi "cuda" <<<"$out" || fail "--device cuda message: $out"
for d in x1 x2 x3 x4 x5 x6 x7 x8; do [[ ! -e "$work/$d" ]] || fail "a failed run left $work/$d behind"; done
echo "nvcs: programs OK"
