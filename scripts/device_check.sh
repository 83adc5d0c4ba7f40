#!/usr/bin/env bash
# One short check on a real GPU machine (the `device` tool): detection and the
# plan against the real hardware. Writes everything under $OUT.
set -u
OUT=${OUT:-/tmp/pipguard-device}; mkdir -p "$OUT"
PY=${PY:-$(command -v python3)}
if [ -d .whl ]; then
  $PY -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD
else
  export PYTHONPATH=$PWD
fi
export PIPGUARD_CACHE_DIR=/tmp/pgcache
{
  echo "== nvidia-smi"; nvidia-smi --query-gpu=name,driver_version,compute_cap,pci.bus_id --format=csv,noheader
  echo "== torch"; $PY -c 'import torch; print(torch.__version__, torch.cuda.get_arch_list(), torch.cuda.get_device_capability())'
  echo "== detect (text)"; $PY -m pipguard detect
  ln -sfn / /tmp/sysroot; echo "== detect, files only (no nvidia-smi, no NVML)"; PIPGUARD_SYSROOT=/tmp/sysroot PATH=/nonexistent $PY -m pipguard detect --json
} > "$OUT/detect.txt" 2>&1
$PY -m pipguard detect --json > "$OUT/detect.json" 2>&1
cp /sys/module/nvidia/version "$OUT/sys_module_nvidia_version" 2>/dev/null
cp /proc/driver/nvidia/version "$OUT/proc_driver_nvidia_version" 2>/dev/null
# bench: detect vs pip --version on this machine
PYTHONDONTWRITEBYTECODE= $PY scripts/bench_detect.py > "$OUT/bench_detect.txt" 2>&1
# plan against the imitation index, real hardware vs the same facts as overrides
$PY scripts/make_index.py /tmp/idx > /dev/null
$PY scripts/serve_index.py /tmp/idx --port 8799 > /tmp/serve.log 2>&1 &
sleep 2
U=http://127.0.0.1:8799/whl
{
  echo "== plan, detected hardware"; $PY -m pipguard plan torch torchvision --torch-index-url $U
  echo "== plan --json, detected"; $PY -m pipguard plan torch torchvision --torch-index-url $U --json
  D=$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["driver_version"], ",".join(g["compute_capability"] for g in d["gpus"]))' "$OUT/detect.json")
  set -- $D
  echo "== plan --json, overrides --cuda-driver $1 --gpu-arch $2"
  $PY -m pipguard plan torch torchvision --torch-index-url $U --json --cuda-driver "$1" --gpu-arch "$2"
  echo "== doctor on the machine's own torch"; $PY -m pipguard doctor
  echo "== doctor --deep"; $PY -m pipguard doctor --deep --json
  echo "== verify torch (installed torch, RECORD)"; time $PY -m pipguard verify torch
  echo "== install into a fresh venv, detected hardware (imitation wheels)"
  $PY -m venv /tmp/pgvenv && PIP_CONFIG_FILE=/dev/null $PY -m pipguard --python /tmp/pgvenv/bin/python \
    install torch torchvision --torch-index-url $U --index-url http://127.0.0.1:8799/pypi/simple -q
  echo "rc=$?"; $PY -m pipguard --python /tmp/pgvenv/bin/python verify
  echo "== doctor on that venv"; $PY -m pipguard --python /tmp/pgvenv/bin/python doctor \
    --torch-index-url $U
} > "$OUT/plan.txt" 2>&1
kill %1 2>/dev/null
echo done
