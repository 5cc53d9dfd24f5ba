#!/usr/bin/env bash
# Referring expressions through the programs on a tiny ShapesWorld: refexp_train with each
# objective (ML, MMI-SoftMax, MMI-MM) and a stop and resume, refexp_comprehend with GT and proposal
# candidates and on generated expressions, refexp_generate, refexp_eval (P@k, generation metrics,
# unambiguity); and bad input rejected clearly: a box outside the image, a box with zero area, an
# annotation whose image is not in "images", a missing expression, an image set where every image
# has one object under MMI (refused) and single-object images skipped and counted, results that
# name unknown annotations, a model folder that is not one; precomputed region and image features
# (extract_features --refexp) through every program.
# Usage: refexp.sh BIN_DIR WORK_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin=$1 work=$2
rm -rf "$work"; mkdir -p "$work"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

for p in refexp_train refexp_comprehend refexp_generate refexp_eval; do
  help=$("$bin/$p" --help)
  grep -q -- "--data" <<<"$help" || fail "$p --help has no --data"
done
help=$("$bin/refexp_train" --help)
grep -q -- "--mmi" <<<"$help" || fail "refexp_train --help lacks --mmi"
grep -q "=none" <<<"$help" || fail "refexp_train --help shows no defaults"

s=$work/shapes
"$bin/make_shapes" --out "$s" --seed 3 --train 30 --val 10 --test 4 --novel 0 --quiet >/dev/null
tr=$s/google_refexp_train_shapes_coco_aligned.json va=$s/google_refexp_val_shapes_coco_aligned.json
data=(--data "$tr" --images "$s/images" --val-data "$va")
small=(--batch 16 --embed 16 --lstm 16 --fusing 24 --image-size 16 --cnn-channels 4 --feature-dim 16 --quiet)

# Each objective; MMI-MM stopped after 4 steps and resumed to 8.
"$bin/refexp_train" "${data[@]}" "${small[@]}" --out "$work/ml" --steps 8 --mmi none >/dev/null
"$bin/refexp_train" "${data[@]}" "${small[@]}" --out "$work/sm" --steps 8 --mmi softmax --lambda 0.5 2>"$work/sm.err" >/dev/null
grep -q "training expressions skipped: their image has a single object" "$work/sm.err" ||
  fail "MMI did not report the skipped single-object images: $(cat "$work/sm.err")"
"$bin/refexp_train" "${data[@]}" "${small[@]}" --out "$work/mm" --steps 8 --val-every 4 --mmi margin --margin 0.5 \
  --stop-after 4 >/dev/null
"$bin/refexp_train" "${data[@]}" "${small[@]}" --out "$work/mm" --steps 8 --val-every 4 --mmi margin --margin 0.5 \
  --resume >"$work/mm.out"
grep -q "trained 8 steps" "$work/mm.out" || fail "resume did not reach 8 steps: $(cat "$work/mm.out")"
grep -q '"event":"resume"' "$work/mm/log.jsonl" || fail "log.jsonl has no resume event"
grep -q '"precision_gt"' "$work/mm/log.jsonl" || fail "log.jsonl has no validation P@1"
for f in config.json vocab.txt model.safetensors log.jsonl; do
  [[ -s "$work/mm/$f" ]] || fail "refexp_train did not write $f"
done
grep -q '"mmi": "margin"' "$work/mm/config.json" || fail "config.json does not record the objective"
grep -q '"mmi": "softmax"' "$work/sm/config.json" || fail "config.json does not record the objective"
# The max-pooled CNN head: recorded, and read back by the inference programs.
"$bin/refexp_train" "${data[@]}" "${small[@]}" --out "$work/mx" --steps 2 --cnn-pool max >/dev/null
grep -q '"cnn_pool": "max"' "$work/mx/config.json" || fail "--cnn-pool max not recorded"
"$bin/refexp_comprehend" --model "$work/mx" --data "$va" --images "$s/images" --results "$work/c_mx.json" --quiet >/dev/null
grep -q '"predicted_bounding_boxes"' "$work/c_mx.json" || fail "comprehension with the max head wrote no results"
expect_error "give the same options" "$bin/refexp_train" "${data[@]}" "${small[@]}" --out "$work/mm" --steps 8 --mmi none --resume

# Comprehension, generation, end to end, scoring.
m=$work/mm
"$bin/refexp_comprehend" --model "$m" --data "$va" --images "$s/images" --results "$work/c_gt.json" --quiet >/dev/null
"$bin/refexp_comprehend" --model "$m" --data "$va" --images "$s/images" --candidates proposals \
  --results "$work/c_prop.json" --quiet >/dev/null
"$bin/refexp_generate" --model "$m" --data "$va" --images "$s/images" --beam 2 --results "$work/gen.json" --quiet >/dev/null
"$bin/refexp_comprehend" --model "$m" --data "$va" --images "$s/images" --expressions "$work/gen.json" \
  --results "$work/c_e2e.json" --quiet >/dev/null
for f in c_gt c_prop c_e2e; do
  grep -q '"predicted_bounding_boxes"' "$work/$f.json" || fail "$f.json is not in the toolbox format"
done
grep -q '"refexp_id"' "$work/c_gt.json" || fail "c_gt.json has no refexp_id"
grep -q '"refexp"' "$work/gen.json" || fail "gen.json has no refexp"
n_ann=$(grep -c '"annotation_id"' "$work/gen.json")
n_obj=$(grep -o '"annotation_id":[0-9]*' "$va" | sort -u | wc -l)
((n_ann == n_obj)) || fail "refexp_generate wrote $n_ann expressions for $n_obj objects"
"$bin/refexp_eval" --data "$va" --comprehension "$work/c_gt.json" --generation "$work/gen.json" \
  --scenes "$s/dataset_shapes_scenes.json" --out "$work/eval.json" >/dev/null
for k in precision_at_1 precision_at_2 chance_gt_percent bleu4 rouge_l cider_d unambiguous_percent \
         refers_to_target_percent; do
  grep -q "\"$k\"" "$work/eval.json" || fail "eval.json lacks $k"
done
# The file's own ShapesWorld expressions are unambiguous by construction: the reference level is 100%.
grep -A4 '"file_expressions"' "$work/eval.json" | grep -q '"unambiguous_percent": 100.0' ||
  fail "the file's own expressions are not 100% unambiguous: $(cat "$work/eval.json")"
"$bin/refexp_eval" --data "$va" --comprehension "$work/c_e2e.json" >/dev/null
# A results file with every box right scores P@1 = 100 (refexp_eval can fail).
{ echo '['; first=1
  while read -r a x y w h; do
    ((first)) || echo ','; first=0
    echo "{\"annotation_id\": $a, \"predicted_bounding_boxes\": [[$x, $y, $w, $h]]}"
  done < <(grep -o '"annotation_id":[0-9]*,"area":[0-9.]*,"bbox":\[[0-9.,]*\]' "$va" |
           sed 's/"annotation_id":\([0-9]*\),"area":[0-9.]*,"bbox":\[\([0-9.]*\),\([0-9.]*\),\([0-9.]*\),\([0-9.]*\)\]/\1 \2 \3 \4 \5/')
  echo ']'; } >"$work/perfect.json"
perfect=$("$bin/refexp_eval" --data "$va" --comprehension "$work/perfect.json")
grep -q '"precision_at_1": 100.0' <<<"$perfect" ||
  fail "the perfect results do not score 100"

# Precomputed features: extract_features --refexp writes region features + keys and image
# features + ids for the train and val files (a tiny captioner's CNN); a features speaker trains,
# comprehends (GT and proposals) and generates on them; mismatched inputs and bad keys are refused.
"$bin/caption_train" --data "$s/dataset_shapes.json" --images "$s/images" --out "$work/cap" --max-steps 2 --batch 8 \
  --val-images 2 --embed1 8 --embed2 8 --rnn-size 8 --multimodal 8 --image-dim 12 --image-size 16 --cnn-channels 4 \
  --quiet >/dev/null
for f in train; do
  "$bin/extract_features" --model "$work/cap" --refexp "$s/google_refexp_${f}_shapes_coco_aligned.json" \
    --images "$s/images" --out "$work/r_$f.npy" --ids-out "$work/r_$f.txt" --image-out "$work/i_$f.npy" \
    --image-ids-out "$work/i_$f.txt" --quiet >/dev/null
done
grep -q "^ann [0-9]*$" "$work/r_train.txt" || fail "the region keys have no ann lines"
grep -q "^cand [0-9]* [0-9]*$" "$work/r_train.txt" || fail "the region keys have no cand lines"
feat=(--region-features "$work/r_train.npy" --region-keys "$work/r_train.txt" --image-features "$work/i_train.npy"
      --image-ids "$work/i_train.txt")
"$bin/refexp_train" --data "$tr" "${feat[@]}" "${small[@]}" --out "$work/feat" --steps 4 --mmi softmax >/dev/null
grep -q '"image_size": 0' "$work/feat/config.json" || fail "a features speaker should have no CNN (image_size 0)"
grep -q '"feature_dim": 12' "$work/feat/config.json" || fail "the features speaker's width is not the files' 12"
"$bin/refexp_comprehend" --model "$work/feat" --data "$tr" "${feat[@]}" --results "$work/c_feat.json" --quiet >/dev/null
"$bin/refexp_comprehend" --model "$work/feat" --data "$tr" "${feat[@]}" --candidates proposals \
  --results "$work/c_feat_p.json" --quiet >/dev/null
"$bin/refexp_generate" --model "$work/feat" --data "$tr" "${feat[@]}" --results "$work/g_feat.json" --quiet >/dev/null
grep -q '"predicted_bounding_boxes"' "$work/c_feat_p.json" || fail "comprehension on features wrote no results"
grep -q '"refexp"' "$work/g_feat.json" || fail "generation on features wrote no expressions"
expect_error "trained on precomputed features: give --region-features" "$bin/refexp_comprehend" --model "$work/feat" \
  --data "$tr" --images "$s/images" --results "$work/x20.json"
expect_error "trained on images: give --images" "$bin/refexp_comprehend" --model "$m" --data "$tr" "${feat[@]}" \
  --results "$work/x20.json"
expect_error "need all four" "$bin/refexp_train" --data "$tr" --region-features "$work/r_train.npy" --out "$work/x21"
expect_error "annotation [0-9]* has no row in" "$bin/refexp_train" --data "$va" "${feat[@]}" --out "$work/x21"
{ echo "object 3"; tail -n +2 "$work/r_train.txt"; } >"$work/bad_keys.txt"
expect_error "bad_keys.txt:1: expected \"ann <annotation_id>\" or \"cand <image_id> <k>\"" "$bin/refexp_train" \
  --data "$tr" --region-features "$work/r_train.npy" --region-keys "$work/bad_keys.txt" \
  --image-features "$work/i_train.npy" --image-ids "$work/i_train.txt" --out "$work/x21"
[[ ! -e "$work/x20.json" && ! -e "$work/x21" ]] || fail "a failed run left its output behind"

# Bad input.
b=$work/bad; mkdir -p "$b"
mk() {  # mk NAME IMAGE_ID BBOX REFEXP_IDS [IMAGE 1's second object: yes/no]
  local second='"1": {"image_id": 0, "bbox": [17, 35, 13, 13], "refexp_ids": [2]}'
  [[ ${5:-yes} == yes ]] || second='"1": {"image_id": 1, "bbox": [17, 35, 13, 13], "refexp_ids": [2]}'
  cat >"$b/$1.json" <<JSON
{"images": {"0": {"file_name": "shapes_000000.png", "width": 64, "height": 64},
            "1": {"file_name": "shapes_000001.png", "width": 64, "height": 64}},
 "annotations": {"0": {"image_id": $2, "bbox": $3, "refexp_ids": $4}, $second},
 "refexps": {"1": {"tokens": ["the", "diamond"]}, "2": {"tokens": ["the", "cross"]}}}
JSON
}
mk outside 0 "[60, 5, 11, 14]" "[1]"
mk zero 0 "[49, 5, 0, 14]" "[1]"
mk noimage 7 "[49, 5, 11, 14]" "[1]"
mk norefexp 0 "[49, 5, 11, 14]" "[1, 5]"
mk single 0 "[49, 5, 11, 14]" "[1]" no
tiny=(--images "$s/images" "${small[@]}" --steps 1)
expect_error "annotations.0.bbox: box \[60, 5, 11, 14\] lies outside the 64 x 64 image" \
  "$bin/refexp_train" --data "$b/outside.json" "${tiny[@]}" --out "$b/m"
expect_error "annotations.0.bbox: box \[49, 5, 0, 14\] must have positive width and height" \
  "$bin/refexp_train" --data "$b/zero.json" "${tiny[@]}" --out "$b/m"
expect_error "annotations.0.image_id: expected the id of an entry of \"images\", found 7" \
  "$bin/refexp_train" --data "$b/noimage.json" "${tiny[@]}" --out "$b/m"
expect_error "annotations.0.refexp_ids\[1\]: expected the id of an entry of \"refexps\", found 5" \
  "$bin/refexp_train" --data "$b/norefexp.json" "${tiny[@]}" --out "$b/m"
expect_error "every training image of .* has a single object" \
  "$bin/refexp_train" --data "$b/single.json" "${tiny[@]}" --out "$b/m" --mmi margin
"$bin/refexp_train" --data "$b/single.json" "${tiny[@]}" --out "$b/ml_single" >/dev/null 2>&1  # ML needs no contrast
for p in refexp_comprehend refexp_generate; do
  expect_error "lies outside the 64 x 64 image" "$bin/$p" --model "$m" --data "$b/outside.json" --images "$s/images" \
    --results "$b/r.json"
done
expect_error "lies outside the 64 x 64 image" "$bin/refexp_eval" --data "$b/outside.json" --comprehension "$work/c_gt.json"
expect_error "is not an annotation of" "$bin/refexp_eval" --data "$b/single.json" --comprehension "$work/c_gt.json"
expect_error "is not an annotation of" "$bin/refexp_comprehend" --model "$m" --data "$b/single.json" \
  --images "$s/images" --expressions "$work/gen.json" --results "$b/r.json"
expect_error "--scenes needs --generation" "$bin/refexp_eval" --data "$va" --comprehension "$work/c_gt.json" \
  --scenes "$s/dataset_shapes_scenes.json"
expect_error "not a refexp model folder" "$bin/refexp_generate" --model "$s" --data "$va" --images "$s/images" \
  --results "$b/r.json"
echo '[{"annotation_id": 1}]' >"$b/badres.json"
expect_error "\[0\].predicted_bounding_boxes: expected an array" "$bin/refexp_eval" --data "$va" --comprehension "$b/badres.json"
echo "refexp programs: all checks passed"
