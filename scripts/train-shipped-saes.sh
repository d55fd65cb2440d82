#!/usr/bin/env bash
# Trains and evaluates the SAEs shipped in assets/saes/ (issue 5, "Ship").
#
#   scripts/train-shipped-saes.sh            # everything: default SAEs, sweep, frontier
#   scripts/train-shipped-saes.sh defaults   # blocks.{1,2,3}.hook_resid_post only
#   scripts/train-shipped-saes.sh sweep      # the blocks.2 sweep + frontier.svg only
#   scripts/train-shipped-saes.sh readmes    # rewrite the per-folder README.md from eval.json only
#
# Every run is seeded (--seed for training, the eval's default --seed 0 for the pathology check's
# random directions), on the embedded stories260K model, the TinyStories train sample (training) and
# the TinyStories validation text (eval, 32 contexts × 128 tokens). Each training run writes its
# SAELens folder; `sae eval` writes eval.json next to it. Checkpoints are removed after training.
set -euo pipefail
cd "$(dirname "$0")/.."

TM=(npx tsx src/cli/main.ts)
OUT=assets/saes
SEED=1

# Default SAEs: TopK, 1024 latents, k = 16, 2M tokens, cosine schedule (all other flags default).
DEFAULT_ARGS=(--architecture topk --d-sae 1024 --k 16 --tokens 2000000 --seed "$SEED")
# Sweep on blocks.2.hook_resid_post: 512 latents, 500k tokens each. The L1 / L0-penalised members
# train at batch 256 (four times the optimiser steps): Adam moves each weight by about lr per step,
# and at batch 1024 their sparsity has not settled after 500k tokens (TopK needs no settling).
SWEEP_HOOK=blocks.2.hook_resid_post
SWEEP_COMMON=(--d-sae 512 --tokens 500000 --seed "$SEED")
SWEEP=(
  "topk-k4|--architecture topk --k 4"
  "topk-k8|--architecture topk --k 8"
  "topk-k16|--architecture topk --k 16"
  "topk-k32|--architecture topk --k 32"
  "batchtopk-k8|--architecture batchtopk --k 8"
  "batchtopk-k16|--architecture batchtopk --k 16"
  "standard-l1_2|--architecture standard --l1 2 --batch 256"
  "standard-l1_3|--architecture standard --l1 3 --batch 256"
  "standard-l1_5|--architecture standard --l1 5 --batch 256"
  "jumprelu-l0_0.3|--architecture jumprelu --l0 0.3 --batch 256"
  "jumprelu-l0_0.6|--architecture jumprelu --l0 0.6 --batch 256"
  "jumprelu-l0_1|--architecture jumprelu --l0 1 --batch 256"
)

train_eval() { # <out dir> <hook> <train args...>
  local dir=$1 hook=$2; shift 2
  rm -rf "$dir"
  "${TM[@]}" sae train --hook "$hook" "$@" --out "$dir"
  rm -rf "$dir/checkpoint"
  "${TM[@]}" sae eval "$dir" --out "$dir/eval.json"
}

write_readme() { # <dir> <hook>: README.md with the command, seed and key metrics
  local dir=$1 hook=$2
  node -e '
    const fs = require("fs");
    const [dir, hook, args] = process.argv.slice(1);
    const e = JSON.parse(fs.readFileSync(dir + "/eval.json", "utf8"));
    const f = (v) => (typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : String(v));
    const rows = [
      ["l0", e.sparsity.l0], ["explained_variance", e.reconstruction_quality.explained_variance],
      ["ce_loss_score", e.model_performance_preservation.ce_loss_score], ["kl_div_score", e.model_behavior_preservation.kl_div_score],
      ["mse", e.reconstruction_quality.mse], ["cossim", e.reconstruction_quality.cossim], ["l2_ratio", e.shrinkage.l2_ratio],
      ["ce_loss_without_sae", e.model_performance_preservation.ce_loss_without_sae],
      ["ce_loss_with_sae", e.model_performance_preservation.ce_loss_with_sae],
      ["kl_div_sae_over_random (Gurnee)", e.pathology.kl_div_sae_over_random],
      ["dead_features_fraction", e.sparsity.dead_features_fraction],
      ["dense_features_fraction", e.sparsity.dense_features_fraction],
    ].filter(([, v]) => v !== undefined);
    const md = `# TopK SAE on ${hook} (stories260K)\n\n` +
      "SAELens v6 folder (cfg.json + sae_weights.safetensors) trained by tinymorph; " +
      "eval.json holds the full `tinymorph sae eval` metrics (SAELens key names) on held-out TinyStories validation text.\n\n" +
      "Reproduce (seed 1; eval seed 0, 32 contexts × 128 tokens):\n\n```sh\n" +
      `npx tinymorph sae train --hook ${hook} ${args} --out ${dir}\n` +
      `npx tinymorph sae eval ${dir} --out ${dir}/eval.json\n` + "```\n\n" +
      "| metric | value |\n|---|---|\n" + rows.map(([k, v]) => `| ${k} | ${f(v)} |`).join("\n") + "\n\n" +
      "Plots: loss.svg and l0.svg (training curves), feature_density.svg (held-out feature density, rewritten by `sae eval`); per-step training log: training_log.jsonl.\n\n" +
      "Licence: derived from the stories260K model (MIT) and TinyStories text (CDLA-Sharing-1.0).\n";
    fs.writeFileSync(dir + "/README.md", md);
  ' "$dir" "$hook" "${DEFAULT_ARGS[*]}"
}

defaults() {
  for layer in 1 2 3; do
    local hook=blocks.$layer.hook_resid_post
    train_eval "$OUT/$hook" "$hook" "${DEFAULT_ARGS[@]}"
    write_readme "$OUT/$hook" "$hook"
  done
}

sweep() {
  for entry in "${SWEEP[@]}"; do
    local name=${entry%%|*} args=${entry#*|}
    local dir=$OUT/sweep/$name
    # shellcheck disable=SC2086
    train_eval "$dir" "$SWEEP_HOOK" $args "${SWEEP_COMMON[@]}"
    rm -f "$dir/training_log.jsonl" # plots are kept; the raw log is not shipped for sweep members
  done
  npx tsx scripts/sae-frontier.ts
}

case ${1:-all} in
  defaults) defaults ;;
  sweep) sweep ;;
  readmes) for layer in 1 2 3; do write_readme "$OUT/blocks.$layer.hook_resid_post" "blocks.$layer.hook_resid_post"; done ;;
  all) defaults; sweep ;;
  *) echo "usage: $0 [all|defaults|sweep|readmes]" >&2; exit 2 ;;
esac
