#!/usr/bin/env bash
# Every GPU figure in the README, in one run on a lent GPU machine: transfer speed and peak
# memory per size, the CLI end to end, exact retrieval over 50,000 maps held on the GPU,
# and the quality rows painted there (judged afterwards on this machine, which has the judge).
#
#   bash ../shared/tools/gpu-pack/pack.sh          # once, here (EVERY=16 keeps it under 64 MiB)
#   device run, carry [".gpu"]:  bash bench/gpu_run.sh
#   then here: tar -xf quality-*.tar; python bench/quality.py --judge-from DIR ...
#
# Check it here first: DEVICE=cpu QUICK=1 OUT=/tmp/gpu-out bash bench/gpu_run.sh
# Each part runs under a cap so one slow part cannot cost the rest; BUDGET (s) bounds all;
# ONLY (a regex of part names) runs some parts again.
set -u
DEVICE=${DEVICE:-cuda}
QUICK=${QUICK:-0}
OUT=${OUT:-/tmp/gpu-out}
WORK=$(mktemp -d)
LOG=$OUT/log.txt
mkdir -p "$OUT"
deadline=$((SECONDS + ${BUDGET:-540}))
if [ "$DEVICE" = cuda ]; then
  source .gpu/setup.sh || exit 1
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee -a "$LOG"
else
  PY=.venv/bin/python
  artifier() { .venv/bin/artifier "$@"; }
fi
ART=../shared/data/art
PHOTO=../shared/data/photos/chelsea-cat.jpg
STARRY=$ART/vincent-van-gogh_the-starry-night-1889.jpg

part() {  # NAME CAP COMMAND... (a function too: it runs in a child bash): run COMMAND for at most CAP s (less if the budget is short)
  local name=$1 cap=$2 left=$((deadline - SECONDS))
  shift 2
  [[ -n ${ONLY:-} && ! $name =~ $ONLY ]] && return
  [ "$left" -lt "$cap" ] && cap=$left
  if [ "$cap" -lt 10 ]; then echo "== $name: skipped, no time left" | tee -a "$LOG"; return; fi
  echo "== $name (at most ${cap} s)" | tee -a "$LOG"
  local start=$SECONDS
  timeout "$cap" bash -c '"$@"' _ "$@" 2>&1 | grep -v Warning | tee -a "$LOG"
  echo "== $name: ${PIPESTATUS[0]} after $((SECONDS - start)) s" | tee -a "$LOG"
}
timed_cli() {  # the whole `artifier transfer` process, start-up included
  local start=$(date +%s%N)
  artifier transfer "$PHOTO" --style "$STARRY" --device "$DEVICE" "$@" || return
  echo "wall $((($(date +%s%N) - start) / 1000000)) ms: artifier transfer $*"
}

if [ "$QUICK" = 1 ]; then
  S=128; SIZES=256; PAIRS=1; ARTWORKS=400; STEPS=3; Q=(--photos 1 --crops 1)
  mkdir -p "$WORK/art" && ls $ART | grep -v metadata | head -12 | while read -r f; do
    ln -s "$(realpath $ART/$f)" "$WORK/art/$f"; done
  ART=$WORK/art
else
  S=512; SIZES=2048,4096; PAIRS=12; ARTWORKS=50000; STEPS=""; Q=(--photos 2 --crops 2)
fi

# Issue 10: the CUDA-graph step against the eager one, speed at 512 px with and without
# it side by side, the CLI end to end.
part cuda-tests 60 $PY -m pytest -q -p no:cacheprovider tests/test_cuda_graph.py
part speed 100 $PY bench/transfer_speed.py --device "$DEVICE" --size $S \
  ${STEPS:+--long-steps $STEPS} --variants float32:nchw:eager,bfloat16:cl:eager
export -f timed_cli artifier
export PHOTO STARRY DEVICE PY
part cli 45 timed_cli --size $S -o "$OUT/cat-long.png"
part cli-fast 30 timed_cli --size $S --schedule fast -o "$OUT/cat-fast.png"

# Issue 9: the quality rows at 512 px on both schedules, painted here, judged at home.
for schedule in long fast; do
  part "quality-$schedule" $([ $schedule = long ] && echo 170 || echo 80) \
    $PY bench/quality.py --device "$DEVICE" --size $S --pairs $PAIRS --rows b,c \
    --schedule $schedule --paint-only "$WORK/quality-$schedule"
  [ -d "$WORK/quality-$schedule" ] && tar -cf "$OUT/quality-$schedule.tar" -C "$WORK" "quality-$schedule" 2>/dev/null
done

# Issue 10: time and peak GPU memory at large sizes.
part sizes 100 $PY bench/transfer_speed.py --device "$DEVICE" --sizes $SIZES --fast-steps 3

# Issue 12: an index of the carried slice, 50,000 maps made from it, exact on the GPU.
part index 45 bash -c "artifier index build $ART --index $WORK/idx --device $DEVICE"
part synthetic 80 $PY bench/synthetic.py "$WORK/idx" "$WORK/syn" --artworks $ARTWORKS \
  --device "$DEVICE"
part recall-50k 90 $PY bench/recall.py --index "$WORK/syn" --no-faiss --resident "${Q[@]}"
rm -rf "$WORK/syn"
part recall-small 40 $PY bench/recall.py --index "$WORK/idx" --photos 8 --crops 8
echo "== done, $SECONDS s in all" | tee -a "$LOG"
