#!/usr/bin/env bash
# mQA through the programs on a tiny ShapesWorld: mqa_train (the full model, each ablation, sentence
# answers, a stop and resume), mqa_answer, mqa_eval (official results file + accuracy JSON, scoring
# an existing results file), precomputed features (extract_features --questions, --features), Chinese
# questions with --tokenizer char, and bad input rejected clearly:
# a question whose image is missing, an annotation with no answers, question and annotation files
# whose ids disagree, results that miss or duplicate ids, exclusive flags, a GPU device.
# Usage: mqa.sh BIN_DIR WORK_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin=$1 work=$2
rm -rf "$work"; mkdir -p "$work"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

for p in mqa_train mqa_answer mqa_eval; do
  help=$("$bin/$p" --help)  # captured first: grep -q would close the pipe early
  grep -q -- "--device" <<<"$help" || fail "$p --help has no --device"
done
help=$("$bin/mqa_train" --help)
grep -q -- "--same-lstm" <<<"$help" || fail "mqa_train --help lacks --same-lstm"
grep -q "=64" <<<"$help" || fail "mqa_train --help shows no defaults"

s=$work/shapes
"$bin/make_shapes" --out "$s" --seed 5 --train 40 --val 10 --test 10 --novel 0 --quiet >/dev/null
trq=$s/v2_OpenEnded_shapes_train_questions.json tra=$s/v2_shapes_train_annotations.json
vq=$s/v2_OpenEnded_shapes_val_questions.json va=$s/v2_shapes_val_annotations.json
teq=$s/v2_OpenEnded_shapes_test_questions.json tea=$s/v2_shapes_test_annotations.json
data=(--questions "$trq" --annotations "$tra" --images "$s/images" --val-questions "$vq" --val-annotations "$va")
small=(--batch 16 --val-count 10 --embed 16 --lstm 16 --fusing 24 --image-size 32 --cnn-channels 4,8 --image-dim 16
       --quiet)

# The full model, stopped after 6 steps and resumed to 12.
"$bin/mqa_train" "${data[@]}" "${small[@]}" --out "$work/full" --steps 12 --val-every 6 --stop-after 6 >/dev/null
"$bin/mqa_train" "${data[@]}" "${small[@]}" --out "$work/full" --steps 12 --val-every 6 --resume >"$work/full.out"
grep -q "trained 12 steps" "$work/full.out" || fail "resume did not reach 12 steps: $(cat "$work/full.out")"
grep -q '"event":"resume"' "$work/full/log.jsonl" || fail "log.jsonl has no resume event"
grep -q '"accuracy"' "$work/full/log.jsonl" || fail "log.jsonl has no validation accuracy"
for f in config.json vocab.txt answer_words.json model.safetensors log.jsonl; do
  [[ -s "$work/full/$f" ]] || fail "mqa_train did not write $f"
done
grep -q '"model": "mqa"' "$work/full/config.json" || fail "config.json is not an mQA config"

# The ablations and the blind baseline: each one flag, recorded in config.json.
for v in same-lstm:same_lstm avg-question:avg_question no-tws:tws blind:blind; do
  flag=${v%%:*} key=${v##*:}
  "$bin/mqa_train" "${data[@]}" "${small[@]}" --out "$work/$flag" --steps 3 --"$flag" >/dev/null
  want=true; [[ $key == tws ]] && want=false
  grep -q "\"$key\": $want" "$work/$flag/config.json" || fail "--$flag: config.json lacks \"$key\": $want"
done

# A CNN started from another model folder (here an mQA one; a caption_train folder works the same), frozen.
"$bin/mqa_train" "${data[@]}" "${small[@]}" --out "$work/cnnfrom" --steps 2 --cnn-from "$work/full" --freeze-cnn \
  2>"$work/cnnfrom.err" >/dev/null
grep -q "CNN: [0-9]* tensors from" "$work/cnnfrom.err" || fail "--cnn-from did not report the copied tensors"
# A donor with the max head (here an mQA model): its head comes with its CNN unless --cnn-pool
# says otherwise, and a head other than the donor's is refused naming both.
"$bin/mqa_train" "${data[@]}" "${small[@]}" --out "$work/maxcnn" --steps 2 --cnn-pool max >/dev/null
grep -q '"cnn_pool": "max"' "$work/maxcnn/config.json" || fail "--cnn-pool max is not in config.json"
"$bin/mqa_train" "${data[@]}" "${small[@]}" --out "$work/frommax" --steps 2 --cnn-from "$work/maxcnn" >/dev/null
grep -q '"cnn_pool": "max"' "$work/frommax/config.json" || fail "--cnn-from did not take the donor's max head"
expect_error "has the max pooling head but this model's is flatten (give --cnn-pool max)" \
  "$bin/mqa_train" "${data[@]}" "${small[@]}" --out "$work/mismatch" --steps 2 --cnn-from "$work/maxcnn" --cnn-pool flatten
expect_error "give the same --image-size" "$bin/mqa_train" "${data[@]}" --image-size 32 --cnn-channels 4,8 --image-dim 8 --out "$work/x8" \
  --cnn-from "$work/full"

# Answering one question; evaluating a split.
q=$(grep -o '"question": *"[^"]*"' "$teq" | head -1 | sed 's/.*: *"\(.*\)"/\1/')
img=$(ls "$s/images" | sort | tail -1)
lines=$("$bin/mqa_answer" --model "$work/full" --image "$s/images/$img" --question "$q" | wc -l)
((lines == 1)) || fail "mqa_answer printed $lines lines"
"$bin/mqa_answer" --model "$work/blind" --image "$s/images/$img" --question "$q" --beam 3 >/dev/null
"$bin/mqa_eval" --model "$work/full" --questions "$teq" --annotations "$tea" --images "$s/images" \
  --results "$work/res.json" >"$work/eval.out"
for k in overall perQuestionType perAnswerType '"how many"' '"yes/no"' questionTypeCounts; do
  grep -q -- "$k" "$work/res_accuracy.json" || fail "res_accuracy.json lacks $k"
done
n_q=$(grep -o '"question_id"' "$teq" | wc -l)
n_r=$(grep -o '"question_id"' "$work/res.json" | wc -l)
((n_q == n_r)) || fail "res.json has $n_r answers for $n_q questions"
grep -q '"answer"' "$work/res.json" || fail "res.json has no answers"
# Scoring the same file again gives the same numbers.
"$bin/mqa_eval" --score "$work/res.json" --questions "$teq" --annotations "$tea" --accuracy "$work/again.json" >/dev/null
cmp -s "$work/res_accuracy.json" "$work/again.json" || fail "--score gives other numbers than the run that wrote the file"
# Every ablation folder loads and answers.
for v in same-lstm avg-question no-tws blind; do
  "$bin/mqa_eval" --model "$work/$v" --questions "$teq" --annotations "$tea" --images "$s/images" \
    --results "$work/res_$v.json" --max-questions 10 >/dev/null
done

# Precomputed features: extract_features writes one row per distinct image of the three question
# files (a tiny captioner's CNN) and their ids; a features model trains and is evaluated on them;
# the wrong input for a model, a missing --feature-ids, a bad ids line and an image without a row
# are refused clearly.
"$bin/caption_train" --data "$s/dataset_shapes.json" --images "$s/images" --out "$work/cap" --max-steps 2 --batch 8 \
  --val-images 2 --embed1 8 --embed2 8 --rnn-size 8 --multimodal 8 --image-dim 12 --image-size 32 --cnn-channels 4 \
  --quiet >/dev/null
"$bin/extract_features" --model "$work/cap" --questions "$trq" "$vq" "$teq" --images "$s/images" \
  --out "$work/feats.npy" --ids-out "$work/feats.txt" --quiet >/dev/null
((  $(wc -l <"$work/feats.txt") == 60 )) || fail "feats.txt has $(wc -l <"$work/feats.txt") ids, expected 60 images"
head -c 128 "$work/feats.npy" | grep -aq "'shape': (60, 12)" || fail "feats.npy is not [60, 12]"
fdata=(--questions "$trq" --annotations "$tra" --features "$work/feats.npy" --feature-ids "$work/feats.txt"
       --val-questions "$vq" --val-annotations "$va")
"$bin/mqa_train" "${fdata[@]}" "${small[@]}" --out "$work/feat" --steps 4 >/dev/null
grep -q '"image_input": "features"' "$work/feat/config.json" || fail "config.json lacks image_input features"
grep -q '"image_dim": 12' "$work/feat/config.json" || fail "the features model's image_dim is not the file's 12"
"$bin/mqa_eval" --model "$work/feat" --questions "$teq" --annotations "$tea" --features "$work/feats.npy" \
  --feature-ids "$work/feats.txt" --results "$work/feat_res.json" >/dev/null
grep -q overall "$work/feat_res_accuracy.json" || fail "mqa_eval --features wrote no accuracy"
expect_error "trained on features: give --features" "$bin/mqa_eval" --model "$work/feat" --questions "$teq" \
  --annotations "$tea" --images "$s/images" --results "$work/x9.json"
expect_error "trained on images: give --images" "$bin/mqa_eval" --model "$work/full" --questions "$teq" \
  --annotations "$tea" --features "$work/feats.npy" --feature-ids "$work/feats.txt" --results "$work/x9.json"
expect_error "has no CNN to read an image file" "$bin/mqa_answer" --model "$work/feat" --image "$s/images/$img" --question "$q"
expect_error "--features needs --feature-ids" "$bin/mqa_train" --questions "$trq" --annotations "$tra" \
  --features "$work/feats.npy" --out "$work/x10"
{ head -1 "$work/feats.txt"; echo "seven"; tail -n +3 "$work/feats.txt"; } >"$work/bad_ids.txt"
expect_error "bad_ids.txt:2: expected an image id" "$bin/mqa_train" --questions "$trq" --annotations "$tra" \
  --features "$work/feats.npy" --feature-ids "$work/bad_ids.txt" --out "$work/x10"
{ echo 999999; tail -n +2 "$work/feats.txt"; } >"$work/other_ids.txt"
expect_error "has no row in" "$bin/mqa_train" --questions "$trq" --annotations "$tra" \
  --features "$work/feats.npy" --feature-ids "$work/other_ids.txt" --out "$work/x10"

# Sentence answers: BLEU-4 / CIDEr-D of the sentences and the accuracy of the picked word.
"$bin/mqa_train" "${data[@]}" "${small[@]}" --out "$work/sent" --steps 4 --answers sentence >/dev/null
"$bin/mqa_eval" --model "$work/sent" --questions "$teq" --annotations "$tea" --images "$s/images" \
  --results "$work/sent.json" --sentences "$work/sent_sentences.json" >/dev/null
grep -q '"cider_d"' "$work/sent_accuracy.json" || fail "sentence eval has no CIDEr-D"
grep -q '"sentence"' "$work/sent_sentences.json" || fail "--sentences wrote no sentences"

# Chinese questions and answers, one token per character.
cat >"$work/zh_q.json" <<'J'
{"questions": [{"question_id": 1, "image_id": 0, "question": "圆是什么颜色？"},
               {"question_id": 2, "image_id": 1, "question": "有几个正方形？"},
               {"question_id": 3, "image_id": 2, "question": "有三角形吗？"}]}
J
cat >"$work/zh_a.json" <<'J'
{"annotations": [
 {"question_id": 1, "image_id": 0, "question_type": "什么颜色", "answer_type": "other", "multiple_choice_answer": "红色",
  "answers": [{"answer": "红色"}, {"answer": "红色"}, {"answer": "红色"}, {"answer": "红"}]},
 {"question_id": 2, "image_id": 1, "question_type": "几个", "answer_type": "number", "multiple_choice_answer": "两个",
  "answers": [{"answer": "两个"}, {"answer": "两个"}, {"answer": "2"}]},
 {"question_id": 3, "image_id": 2, "question_type": "有吗", "answer_type": "yes/no", "multiple_choice_answer": "有",
  "answers": [{"answer": "有"}, {"answer": "有"}, {"answer": "有"}]}]}
J
zh=(--questions "$work/zh_q.json" --annotations "$work/zh_a.json" --images "$s/images")
"$bin/mqa_train" "${zh[@]}" "${small[@]}" --out "$work/zh" --tokenizer char --steps 30 --lr 0.01 >/dev/null
grep -qx "色" "$work/zh/vocab.txt" || fail "the char tokenizer did not split 红色 into characters"
grep -q '"tokenizer": "char"' "$work/zh/config.json" || fail "config.json does not record the char tokenizer"
"$bin/mqa_answer" --model "$work/zh" --image "$s/images/shapes_000000.png" --question "圆是什么颜色？" >/dev/null
"$bin/mqa_eval" --model "$work/zh" "${zh[@]}" --results "$work/zh_res.json" >/dev/null
grep -q '"几个"' "$work/zh_res_accuracy.json" || fail "Chinese question types are missing from the accuracy JSON"

# Bad input.
sed 's/"image_id": 2,/"image_id": 987654,/' "$work/zh_q.json" >"$work/noimg_q.json"
sed 's/"image_id": 2,/"image_id": 987654,/' "$work/zh_a.json" >"$work/noimg_a.json"
expect_error "question 3: its image 987654 is missing" \
  "$bin/mqa_train" --questions "$work/noimg_q.json" --annotations "$work/noimg_a.json" --images "$s/images" --out "$work/x1"
sed 's/"answers": \[{"answer": "有"}, {"answer": "有"}, {"answer": "有"}\]/"answers": []/' "$work/zh_a.json" >"$work/noans_a.json"
expect_error "annotations\[2\].answers.*expected at least one answer" \
  "$bin/mqa_train" --questions "$work/zh_q.json" --annotations "$work/noans_a.json" --images "$s/images" --out "$work/x2"
sed 's/"question_id": 2,/"question_id": 20,/' "$work/zh_q.json" >"$work/ids_q.json"
expect_error "1 question ids have no annotation: 20; 1 annotation ids have no question: 2" \
  "$bin/mqa_train" --questions "$work/ids_q.json" --annotations "$work/zh_a.json" --images "$s/images" --out "$work/x3"
expect_error "1 question ids have no annotation: 20" \
  "$bin/mqa_eval" --model "$work/full" --questions "$work/ids_q.json" --annotations "$work/zh_a.json" \
  --images "$s/images" --results "$work/x4.json"
sed '0,/"question_id"/{//d}' "$work/res.json" >"$work/missing.json"  # the first answer loses its id
expect_error "entry \[0\]" "$bin/mqa_eval" --score "$work/missing.json" --questions "$teq" --annotations "$tea"
head -n -1 "$work/res.json" | sed '$ s/}$/},/' >"$work/dup.json"
first=$(sed -n '2,5p' "$work/res.json" | tr -d '\n' | sed 's/,$//')
printf '%s\n]\n' "$first" >>"$work/dup.json"
id=$(grep -o '"question_id": [0-9]*' "$work/res.json" | head -1 | grep -o '[0-9]*$')
expect_error "more than one answer: $id" "$bin/mqa_eval" --score "$work/dup.json" --questions "$teq" --annotations "$tea"
sed '2,5d' "$work/res.json" >"$work/lost.json"  # the first entry removed
expect_error "question ids have no answer: $id" \
  "$bin/mqa_eval" --score "$work/lost.json" --questions "$teq" --annotations "$tea"
expect_error "exclude each other" "$bin/mqa_train" "${data[@]}" --out "$work/x5" --same-lstm --avg-question
expect_error "answer_sentence" "$bin/mqa_train" "${zh[@]}" --out "$work/x6" --answers sentence
expect_error "not an mQA model folder" "$bin/mqa_answer" --model "$work/nothing" --image "$s/images/$img" --question "why"
expect_error "cuda" "$bin/mqa_train" "${data[@]}" --out "$work/x7" --device cuda
for d in x1 x2 x3 x5 x6 x7 x8 x10; do [[ ! -e "$work/$d" ]] || fail "a failed run left $work/$d behind"; done
[[ ! -e "$work/x4.json" && ! -e "$work/x9.json" ]] || fail "a failed mqa_eval left a results file behind"
echo "mqa: programs OK"
