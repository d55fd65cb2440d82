#!/usr/bin/env bash
# Builds the steering presets (assets/steering/presets/<name>.safetensors) from the contrast sets in
# assets/steering/contrast/<name>/ with `tinymorph vector train` (CAA mean difference). Each preset
# has the hook and token position that gave the clearest effect in the sweep recorded in the
# README (scripts/measure-presets.ts measures them). Deterministic: no sampling.
#
#   scripts/build-steering-presets.sh            # all presets
#   scripts/build-steering-presets.sh happy      # one
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A RECIPE=(
  [happy]="--position mean --hooks blocks.2.hook_resid_post"
  [dialogue]="--position last --hooks blocks.2.hook_resid_post"
  [animals]="--position mean --hooks blocks.3.hook_resid_post"
  [short-sentences]="--position last --hooks blocks.2.hook_resid_post"
)
PRESETS=("${@:-happy dialogue animals short-sentences}")
for preset in ${PRESETS[*]}; do
  dir=assets/steering/contrast/$preset
  # shellcheck disable=SC2086 # the recipe is a list of flags
  npx tsx src/cli/main.ts vector train \
    --pos "$dir/positive.txt" --neg "$dir/negative.txt" --method caa ${RECIPE[$preset]} \
    --out "assets/steering/presets/$preset.safetensors"
done
