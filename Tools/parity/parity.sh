#!/usr/bin/env bash
# ConvKit against PyTorch on reference-layout models (torchvision, U-Net, CycleGAN; `make parity`); see Tools/parity/parity.py.
#
# 1. a Python venv (.venv-parity, git-ignored) with numpy, safetensors and torch (the CPU wheel,
#    from pip's index or find-links);
# 2. convkit-parity (release build);
# 3. Tools/parity/parity.py: one row per model, mode and thread count; exits non-zero on any
#    mismatch.
#
# Environment knobs (all optional):
#   THREADS=1,2                      thread counts of the ConvKit runs (OpenBLAS gets the same)
#   PARITY_MODELS=resnet18,...       a subset of the models (names as printed)
#   PARITY_VENV=.venv-parity         the venv folder
#   PARITY_TORCH_VERSION=2.13.0+cpu  the torch build to install (CPU-only wheel)
#   PARITY_FIXTURES=1                regenerate Tests/ConvKitTests/Fixtures instead of comparing
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${PARITY_VENV:-.venv-parity}
SWIFT=${SWIFT:-swift}
TORCH_VERSION=${PARITY_TORCH_VERSION:-2.13.0+cpu}
# The test settings of our machines (see the Makefile).
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-512}

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
PY="$VENV/bin/python"
if ! "$PY" -c "import numpy, safetensors" 2>/dev/null; then
  "$VENV/bin/pip" install --quiet numpy safetensors
fi
if ! "$PY" -c "import torch" 2>/dev/null; then
  # Pinned to the CPU build (a bare `pip install torch` pulls the CUDA wheels).
  "$VENV/bin/pip" install --quiet "torch==$TORCH_VERSION"
fi

if [ "${PARITY_FIXTURES:-0}" = 1 ]; then
  exec "$PY" Tools/parity/parity.py --fixtures Tests/ConvKitTests/Fixtures
fi

"$SWIFT" build -c release ${SWIFTFLAGS:-} --product convkit-parity
BIN="$("$SWIFT" build -c release ${SWIFTFLAGS:-} --show-bin-path)/convkit-parity"
exec "$PY" Tools/parity/parity.py --binary "$BIN" --threads "${THREADS:-1,2}" --models "${PARITY_MODELS:-}"
