#!/usr/bin/env bash
# Crash-safe training: caption_train on a tiny ShapesWorld is killed with SIGKILL at random moments
# (during start-up, during training steps and validation, and while a checkpoint is being written),
# resumed with --resume after each kill, and must end with files bit-identical to an uninterrupted
# run with the same seed: the final checkpoints (model.* and optim.* tensors plus the
# step/epoch/cursor/RNG metadata; checkpoint.safetensors and the kept checkpoint-<step> files) and
# the best model (model.safetensors); no temporary file of a killed write is left behind.
# The kill schedule is drawn from bash's RANDOM seeded with KILL_SEED and is expressed in training
# progress (kill a random 0-150 ms after the checkpoint reaches a random step 2-6 steps on), so it
# hardly depends on the machine's speed (a step takes about 50 ms on a fast machine, so six kills
# use at most about 60 of the 100 steps); the script prints where each kill landed.
# Usage: crash_resume.sh BIN_DIR WORK_DIR [KILL_SEED]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin=$1 work=$2 kill_seed=${3:-2024}
rm -rf "$work"; mkdir -p "$work"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
ms_sleep() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

"$bin/make_shapes" --out "$work/shapes" --seed 5 --train 40 --val 6 --test 0 --novel 0 --quiet >/dev/null
# 100 steps of 16 captions (8 epochs of 200 captions), a validation + checkpoint every 2 steps,
# dropout on so that the dropout RNG stream must resume exactly as well.
steps=100
train_args=(--data "$work/shapes/dataset_shapes.json" --images "$work/shapes/images"
  --max-steps "$steps" --batch 16 --val-every 2 --val-images 3 --seed 11 --dropout 0.25
  --embed1 16 --embed2 32 --rnn-size 32 --multimodal 32 --image-dim 32 --image-size 16 --quiet
  --min-count 1)  # the vocabulary (and the run length) it was written for

start=$(date +%s)
"$bin/caption_train" "${train_args[@]}" --out "$work/ref" >"$work/ref.out" 2>&1 ||
  { cat "$work/ref.out"; fail "the uninterrupted run"; }
echo "uninterrupted run: $(($(date +%s) - start)) s"

run="$work/run"
pid=0 done_ok=0
ckpt_step() {  # the training step in checkpoint.safetensors' metadata (0 when there is none yet)
  local s=""
  [[ -e "$run/checkpoint.safetensors" ]] &&
    s=$(head -c 4096 "$run/checkpoint.safetensors" | grep -ao '\\"step\\":[0-9]*' | grep -o '[0-9]*$' || true)
  echo "${s:-0}"
}
start_run() {  # caption_train in the background, resuming when a checkpoint exists; sets pid
  local resume=()
  [[ -e "$run/checkpoint.safetensors" ]] && resume=(--resume)
  "$bin/caption_train" "${train_args[@]}" --out "$run" "${resume[@]}" >>"$run.out" 2>&1 &
  pid=$!
}
reap() {  # waits for pid: 137 = killed, 0 = training finished (sets done_ok), anything else fails
  local rc=0
  { wait "$pid"; } 2>/dev/null || rc=$?
  if ((rc == 0)); then
    done_ok=1
  elif ((rc != 137)); then
    fail "caption_train exited with $rc: $(tail -n 5 "$run.out")"
  fi
}
alive() { kill -0 "$pid" 2>/dev/null; }

RANDOM=$kill_seed
kills=0 mid_write=0
for event in startup random random write random random; do
  ((done_ok)) && break
  from=$(ckpt_step)
  case $event in
    startup)  # while the program loads the dataset and images or builds the model
      delay=$((RANDOM % 300))
      start_run; ms_sleep "$delay"
      what="$delay ms after start" ;;
    random)  # a random moment after the checkpoint passes a random step
      target=$((from + 2 + RANDOM % 5)) delay=$((RANDOM % 150))
      start_run
      while alive && (($(ckpt_step) < target)); do sleep 0.05; done
      ms_sleep "$delay"
      what="$delay ms after the checkpoint reached step $target" ;;
    write)  # as soon as write_file_atomic's temporary file (checkpoint*.tmp-PID-N) appears
      shopt -s nullglob
      stale=("$run"/*.tmp-*)
      start_run
      hit=""
      while alive && [[ -z "$hit" ]]; do
        for f in "$run"/checkpoint*.tmp-*; do
          [[ " ${stale[*]} " == *" $f "* ]] || { hit=$f; break; }
        done
      done
      shopt -u nullglob
      what="as ${hit##*/} appeared" ;;
  esac
  kill -KILL "$pid" 2>/dev/null || true
  reap
  ((done_ok)) && { echo "$event kill: the run finished first"; break; }
  kills=$((kills + 1))
  if [[ $event == write && -e "$hit" ]]; then
    mid_write=1
    what+=" (left behind: the write was cut off)"
  fi
  echo "$event kill: SIGKILL $what; checkpoint step $from -> $(ckpt_step)"
done

# Resume to the end.
until ((done_ok)); do
  start_run
  reap
done
echo "interrupted run: $kills kills ($mid_write during a checkpoint write), $(grep -c '"event":"resume"' "$run/log.jsonl") resumes"
((kills >= 5)) || fail "only $kills of the kills landed before training finished"
((mid_write)) || echo "note: the checkpoint write finished before its kill landed (timing); the other kills still count"

# The same files, bit for bit; the killed writers' temporary files were cleaned up on resume.
ref_files=$(cd "$work/ref" && ls ./*.safetensors)
[[ $(cd "$run" && ls ./*.safetensors) == "$ref_files" ]] || fail "checkpoint files differ: $(ls "$run")"
for f in $ref_files; do
  cmp "$work/ref/$f" "$run/$f" || fail "$f differs from the uninterrupted run"
done
leftovers=$(find "$run" -name '*.tmp-*')
[[ -z "$leftovers" ]] || fail "temporary files left behind: $leftovers"
echo "crash-resume: $(echo "$ref_files" | tr '\n' ' ')are bit-identical to the uninterrupted run"
