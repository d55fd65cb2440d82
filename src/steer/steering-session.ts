/**
 * Steering for a batch whose rows each carry their own spec (or none), applied inside the one
 * batched forward pass: one hook per hook point that any row steers, which walks the packed
 * segments and edits each row's in-scope tokens with that row's edits. Rows never force separate
 * forward passes, and SAE latent edits of all rows that use the same SAE share one encode call.
 * The hooks run on every forward call — prefill and each cached decode step alike.
 */
import type { HookName } from '../model/hook-points.js';
import type { HookActivation, HookHandle } from '../model/hook-registry.js';
import type { LlamaModel } from '../model/llama-model.js';
import type { Tokenizer } from '../model/tokenizer.js';
import type { Sae } from '../sae/sae.js';
import type { LatentEdit } from '../sae/sae-splice.js';
import { spliceSae } from '../sae/sae-splice.js';
import type { CompiledSteering, DirectionEdit, HookSteering } from './compile-steering.js';
import { ScopeTracker } from './steering-scope.js';

interface RowSteering {
  steering: CompiledSteering;
  scope: ScopeTracker;
  byHook: Map<HookName, HookSteering>;
}

export class SteeringSession {
  private readonly rows: (RowSteering | undefined)[] = [];
  private readonly installed = new Map<HookName, { users: number; handle: HookHandle }>();

  constructor(
    private readonly model: LlamaModel,
    private readonly tokenizer: Tokenizer,
  ) {}

  /** Steers batch row `row` with `steering` from now on; `prompt` is the row's prompt tokens (for scopes). */
  setRow(row: number, steering: CompiledSteering, prompt: readonly number[]): void {
    this.clearRow(row);
    const scope = new ScopeTracker(steering.scope, prompt.length, this.tokenizer, prompt);
    this.rows[row] = { steering, scope, byHook: new Map(steering.hooks.map((h) => [h.hook, h])) };
    for (const h of steering.hooks) {
      const entry = this.installed.get(h.hook);
      if (entry) entry.users++;
      else this.installed.set(h.hook, { users: 1, handle: this.model.hooks.add(h.hook, (act) => this.apply(h.hook, act)) });
    }
  }

  /** Stops steering `row`; hooks no row needs any more are removed. */
  clearRow(row: number): void {
    const r = this.rows[row];
    if (!r) return;
    this.rows[row] = undefined;
    for (const h of r.steering.hooks) {
      const entry = this.installed.get(h.hook);
      if (entry && --entry.users === 0) {
        entry.handle.remove();
        this.installed.delete(h.hook);
      }
    }
  }

  /** Records a token the row generated (the "after marker" scope watches the text). */
  observe(row: number, token: number): void {
    this.rows[row]?.scope.observe(token);
  }

  /** Removes every hook this session installed. */
  dispose(): void {
    for (let r = 0; r < this.rows.length; r++) this.clearRow(r);
  }

  private apply(hook: HookName, act: HookActivation): void {
    const width = act.width;
    const targets: { t: number; row: RowSteering; at: HookSteering }[] = [];
    for (let s = 0; s < act.rows.length; s++) {
      const row = this.rows[act.rows[s]];
      const at = row?.byHook.get(hook);
      if (!row || !at) continue;
      for (let t = act.rowStart[s]; t < act.rowStart[s + 1]; t++) if (row.scope.active(act.positions[t])) targets.push({ t, row, at });
    }
    if (targets.length === 0) return;
    const norms = targets.map(({ t, row }) => (row.steering.normalize ? l2(act.data, t * width, width) : 0));

    // SAE latent edits first, from the clean activation, batched per SAE across rows.
    const bySae = new Map<Sae, { tokens: number[]; edits: LatentEdit[][] }>();
    for (const { t, at } of targets) {
      for (const g of at.saeEdits) {
        let b = bySae.get(g.source.sae);
        if (!b) bySae.set(g.source.sae, (b = { tokens: [], edits: [] }));
        b.tokens.push(t);
        b.edits.push(g.edits);
      }
    }
    for (const [sae, b] of bySae) spliceSae(sae, act.data, { tokens: b.tokens, edits: b.edits, errorTerm: true, backend: this.model.backend });

    targets.forEach(({ t, row, at }, i) => {
      const x = act.data.subarray(t * width, (t + 1) * width);
      for (const d of at.directions) applyDirection(x, d);
      if (row.steering.normalize) rescale(x, norms[i]);
    });
  }
}

/** One direction edit on one token's activation x (see steering-spec.ts for the formulas). */
export function applyDirection(x: Float32Array, d: DirectionEdit): void {
  const n = x.length;
  if (d.method === 'SIMPLE_ADDITIVE') {
    for (let k = 0; k < n; k++) x[k] += d.s * d.dir[k];
    return;
  }
  let c = 0;
  for (let k = 0; k < n; k++) c += x[k] * d.unit[k];
  const target = d.s * d.norm;
  const shift = d.method === 'ORTHOGONAL_DECOMP' ? target - c : Math.min(0, target - c);
  if (shift !== 0) for (let k = 0; k < n; k++) x[k] += shift * d.unit[k];
}

function l2(a: Float32Array, from: number, n: number): number {
  let s = 0;
  for (let k = from; k < from + n; k++) s += a[k] * a[k];
  return Math.sqrt(s);
}

function rescale(x: Float32Array, norm: number): void {
  const now = l2(x, 0, x.length);
  if (now === 0 || now === norm) return;
  const f = norm / now;
  for (let k = 0; k < x.length; k++) x[k] *= f;
}
