/**
 * SAE-guided decoding: a logits processor that, at every step, encodes each row's residual at the
 * SAE's hook (last position) and biases the next-token logits along chosen features' output-token
 * directions (featureLogitDirection) — guided decoding with an SAE as the guide, the idea in
 * tinymorph's notes ("treat SAEs as a logit_processor"). Per feature with push s and typical
 * activation τ, for current activation a:
 *   s > 0 (toward):  logits += s · max(0, 1 − a/τ) · dir   — pushes while the feature is quiet, stops once it fires
 *   s < 0 (away):    logits += s · min(1, a/τ) · dir       — penalises its tokens as far as it is active
 * The whole batch is handled in one call: the residuals of all guided rows that share an SAE are
 * encoded together, so no row waits on another (row-wise processors are vLLM's known bottleneck).
 */
import type { HookActivation, HookHandle } from '../model/hook-registry.js';
import type { LogitsProcessor } from '../model/generate.js';
import type { LlamaModel } from '../model/llama-model.js';
import type { Sae } from '../sae/sae.js';
import { encodeSelected } from '../sae/sae-forward.js';
import type { CompiledGuide } from './compile-steering.js';

interface SaeGroup {
  sae: Sae;
  rows: Set<number>;
  /** Reused [rows, d_sae] workspace of encodeSelected. */
  scratch: Float32Array;
  handle: HookHandle;
  /** Last-position residual of each guided row seen in this step's forward, by batch row. */
  captured: Map<number, Float32Array>;
}

export class SaeGuidance implements LogitsProcessor {
  private readonly guides: (CompiledGuide | undefined)[] = [];
  private readonly groups = new Map<Sae, SaeGroup>();

  constructor(private readonly model: LlamaModel) {}

  setRow(row: number, guide: CompiledGuide): void {
    this.clearRow(row);
    this.guides[row] = guide;
    const sae = guide.source.sae;
    let g = this.groups.get(sae);
    if (!g) {
      const captured = new Map<number, Float32Array>();
      const group: SaeGroup = { sae, rows: new Set(), captured, scratch: new Float32Array(0), handle: this.model.hooks.add(guide.source.hook, (act) => capture(act, group)) };
      this.groups.set(sae, (g = group));
    }
    g.rows.add(row);
  }

  clearRow(row: number): void {
    const guide = this.guides[row];
    if (!guide) return;
    this.guides[row] = undefined;
    const g = this.groups.get(guide.source.sae);
    if (!g) return;
    g.rows.delete(row);
    g.captured.delete(row);
    if (g.rows.size === 0) {
      g.handle.remove();
      this.groups.delete(g.sae);
    }
  }

  dispose(): void {
    for (let r = 0; r < this.guides.length; r++) this.clearRow(r);
  }

  process(logits: Float32Array, rows: Int32Array): void {
    const vocab = this.model.config.vocabSize;
    for (const g of this.groups.values()) {
      const segs: number[] = [];
      for (let s = 0; s < rows.length; s++) if (g.rows.has(rows[s]) && g.captured.has(rows[s])) segs.push(s);
      if (segs.length === 0) continue;
      const { d_in, d_sae } = g.sae.config;
      const x = new Float32Array(segs.length * d_in);
      segs.forEach((s, i) => x.set(g.captured.get(rows[s]) as Float32Array, i * d_in));
      // Only the guided latents are read: one column list for every row of this SAE.
      const latents = [...new Set(segs.flatMap((s) => (this.guides[rows[s]] as CompiledGuide).terms.map((t) => t.index)))];
      if (g.scratch.length < segs.length * d_sae) g.scratch = new Float32Array(segs.length * d_sae);
      const acts = encodeSelected(g.sae, x, segs.length, latents, this.model.backend, g.scratch);
      segs.forEach((s, i) => {
        const out = logits.subarray(s * vocab, (s + 1) * vocab);
        for (const term of (this.guides[rows[s]] as CompiledGuide).terms) {
          const ratio = acts[i * latents.length + latents.indexOf(term.index)] / term.tau;
          const w = term.s > 0 ? term.s * Math.max(0, 1 - ratio) : term.s * Math.min(1, ratio);
          if (w !== 0) for (let v = 0; v < vocab; v++) out[v] += w * term.logits[v];
        }
      });
      g.captured.clear();
    }
  }
}

function capture(act: HookActivation, g: SaeGroup): void {
  for (let s = 0; s < act.rows.length; s++) {
    if (!g.rows.has(act.rows[s])) continue;
    const last = act.rowStart[s + 1] - 1;
    g.captured.set(act.rows[s], act.data.slice(last * act.width, (last + 1) * act.width));
  }
}
