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
# ONLY (a regex of part names) runs some parts again; ROWS picks the quality rows (b,c).
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
  # This machine's torch has no bytecode and cannot keep any: every process compiled its
  # 2,046 modules again (5.4 s). A pip install leaves bytecode; a cache stands in for it.
  export PYTHONPYCACHEPREFIX=/tmp/pycache
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee -a "$LOG"
else
  PY=$PWD/.venv/bin/python
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
  LONG_A="3, 3, 1"; LONG_B="3, 3, 1"
  mkdir -p "$WORK/art" && ls $ART | grep -v metadata | head -12 | while read -r f; do
    ln -s "$(realpath $ART/$f)" "$WORK/art/$f"; done
  ART=$WORK/art
else
  LONG_A="300, 200, 120"; LONG_B="450, 300, 60"
  S=512; SIZES=${SIZES:-2048,4096}; PAIRS=12; ARTWORKS=50000; STEPS=""; Q=(--photos 2 --crops 2)
fi

# Issue 10: the CUDA-graph step against the eager one, speed at 512 px with and without
# it side by side, the CLI end to end.
part cuda-tests 60 $PY -m pytest -q -p no:cacheprovider tests/test_cuda_graph.py
# Where a 512 px step's time goes, and what each lever buys, side by side; with an older
# tree in .before (git archive REV | tar -x -C .before), its step too, in the same run.
part step-profile 90 $PY bench/step_profile.py --device "$DEVICE" --size $S ${STEPS:+--steps $STEPS}
SPEED=(bench/transfer_speed.py --device "$DEVICE" --size $S ${STEPS:+--long-steps $STEPS}
       --variants "${SPEED_VARIANTS:-float32:nchw:eager,bfloat16:cl:eager}")
part speed 100 $PY "${SPEED[@]}"
if [ -d .before ]; then
  mkdir -p shared && ln -sfn "$(realpath ../shared/data)" shared/data  # its ../shared
  before() { (cd .before && PYTHONPATH=$PWD:$PYTHONPATH "$@"); }
  export -f before
  part step-profile-before 60 before $PY bench/step_profile.py --device "$DEVICE" --size $S \
    --variants default --rows 0 ${STEPS:+--steps $STEPS}
  part speed-before 100 before $PY "${SPEED[@]}"
fi
export -f timed_cli artifier
export PHOTO STARRY DEVICE PY
# A pip install of torch leaves bytecode; this machine's has none and did not keep what
# each process compiled (3 s of every start-up on 2026-11-27): compile it once, as pip does.
[ "$DEVICE" = cuda ] && part bytecode 90 bash -c 'unset PYTHONDONTWRITEBYTECODE; $PY -m compileall \
  -q -j 16 "$($PY -c "import os, torch; print(os.path.dirname(torch.__file__))")" >/dev/null; \
  $PY -c "import sys; print(\"bytecode:\", sys.pycache_prefix, sys.flags.dont_write_bytecode)"'
# One small painting first, so the timed ones find every module's bytecode cached.
part warm 40 timed_cli --size 128 --schedule fast --set 'transfer.schedules.fast.iterations=[1, 1, 1]' \
  -o "$WORK/warm.png"
part cli 45 timed_cli --size $S -o "$OUT/cat-long.png"
part cli-fast 30 timed_cli --size $S --schedule fast -o "$OUT/cat-fast.png"
# Where the CLI's wall time goes, one process per schedule.
for schedule in long fast; do
  part "profile-$schedule" 45 $PY bench/profile_cli.py --lines 40 transfer "$PHOTO" \
    --style "$STARRY" --device "$DEVICE" --size $S --schedule $schedule -o "$OUT/prof.png"
done

# Issue 9: the quality rows at 512 px, painted here, judged at home: each schedule, and
# beside the long one (300, 200, 60) the one before it (a: 60 more full-size steps, which
# bring the photo back) and one with more coarse steps (b, where the painting is laid down).
quality() {  # NAME CAP SCHEDULE [--set KEY=VALUE ...]
  local name=$1 cap=$2 schedule=$3
  shift 3
  part "quality-$name" "$cap" $PY bench/quality.py --device "$DEVICE" --size $S --pairs $PAIRS \
    --rows "${ROWS:-b,c}" --schedule "$schedule" "$@" --paint-only "$WORK/quality-$name"
  [ -d "$WORK/quality-$name" ] && tar -cf "$OUT/quality-$name.tar" -C "$WORK" "quality-$name" 2>/dev/null
}
quality fast 80 fast
quality long 170 long
ROWS=b,c quality long-a 100 long --set "transfer.schedules.long.iterations=[$LONG_A]"
ROWS=b,c quality long-b 100 long --set "transfer.schedules.long.iterations=[$LONG_B]"

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
