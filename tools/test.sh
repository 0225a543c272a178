#!/usr/bin/env bash
# The test command: fetch the real MiniLM model if it is not here yet, then run every test.
# Usage: tools/test.sh [extra swift test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
tools/fetch_minilm.sh >/dev/null
# The masked MiniLM (10% of layers 3-5 zeroed) is made from the fetched base with numpy only.
python3 tools/make_minilm_masked.py .models/all-MiniLM-L6-v2 .models/minilm-masked10 --model-only >/dev/null
export BERTC_MINILM_DIR="${BERTC_MINILM_DIR:-$PWD/.models/all-MiniLM-L6-v2}"
swift build --build-tests
swift test --skip-build "$@"
