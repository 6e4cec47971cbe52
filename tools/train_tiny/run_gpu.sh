#!/usr/bin/env bash
# Runs train.py on the GPU machine and packs the model folder for the trip back.
# From a folder holding train.py, make_data.py, chat_template.jinja and heldout.txt:
#   bash run_gpu.sh [train.py options]
# writes $OUT/log.txt and $OUT/model.tgz.part-NN (split at 15 MB; cat them back together).
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
rm -rf /tmp/model
PYTHONUNBUFFERED=1 python3 train.py --out /tmp/model "$@" 2>&1 | tee "$OUT/log.txt"
rc=${PIPESTATUS[0]}
if [ -d /tmp/model ]; then
  tar czf /tmp/model.tgz -C /tmp model && split -b 15M -d /tmp/model.tgz "$OUT/model.tgz.part-"
fi
exit "$rc"
