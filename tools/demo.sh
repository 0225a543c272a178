#!/usr/bin/env bash
# The demo: fetch all-MiniLM-L6-v2, compile it with bertc, embed a few sentences with bertrun.
# Usage: tools/demo.sh ["sentence" ...]
set -euo pipefail
cd "$(dirname "$0")/.."
model=$(tools/fetch_minilm.sh)
swift build -c release --product bertc >/dev/null
swift build -c release --product bertrun >/dev/null
bin=$(swift build -c release --show-bin-path)
mkdir -p .models
"$bin/bertc" compile "$model" -o .models/minilm.bin
if [ $# -eq 0 ]; then
  set -- "A gripping, beautifully shot thriller." "The film is a tedious mess." "Une comédie légère et réussie."
fi
echo "bertrun .models/minilm.bin (mean-pooled, normalised sentence embeddings; first 6 of 384 values):"
"$bin/bertrun" .models/minilm.bin "$@" | while IFS= read -r line; do
  echo "  ${line:0:110}..."
done
