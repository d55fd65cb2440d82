import type { HookSpec } from '../../src/model/hook-registry.js';
import { loadModel } from '../../src/model/load-model.js';
import { compileIfAny } from '../../src/steer/compile-steering.js';
import { SaeGuidance } from '../../src/steer/sae-guided-decoding.js';
import { SteeringContext } from '../../src/steer/steering-context.js';
import { SteeringSession } from '../../src/steer/steering-session.js';
import { parseSteeringSpec } from '../../src/steer/steering-spec.js';

const loaded = loadModel();
export const { model, tokenizer } = loaded;
export const ctx = new SteeringContext(model, tokenizer);
export const HOOK = 'blocks.2.hook_resid_post';
export const VOCAB = model.config.vocabSize;

export interface ForcedRow {
  /** Raw steering request (parsed here), or undefined for a clean row. */
  spec?: unknown;
  tokens: number[];
  /** Tokens given as the prompt (one prefill forward); the rest are fed one decode step at a time. */
  promptLength: number;
}

/**
 * Teacher-forced run of several rows in one batch: prefill every prompt together, then one decode
 * step per remaining token. Returns, per row, the next-token logits after the prompt and after each
 * forced token (guidance applied), so steered runs can be compared token for token with clean ones.
 */
export function forcedLogits(rows: ForcedRow[], extraHooks: HookSpec[] = []): Float32Array[][] {
  const session = new SteeringSession(model, tokenizer);
  const guidance = new SaeGuidance(model);
  const out: Float32Array[][] = rows.map(() => []);
  try {
    rows.forEach((r, i) => {
      const c = compileIfAny(parseSteeringSpec(r.spec), ctx);
      if (c && c.hooks.length > 0) session.setRow(i, c, r.tokens.slice(0, r.promptLength));
      if (c?.guide) guidance.setRow(i, c.guide);
    });
    const cache = model.newCache(rows.length, Math.max(...rows.map((r) => r.tokens.length)));
    const record = (logits: Float32Array, segRows: Int32Array): void => {
      guidance.process(logits, segRows);
      segRows.forEach((row, s) => out[row].push(logits.slice(s * VOCAB, (s + 1) * VOCAB)));
    };
    model.hooks.with(extraHooks, () => {
      const first = model.forward(cache, rows.map((r) => r.tokens.slice(0, r.promptLength)));
      record(first.logits, first.rows);
      for (let step = 0; ; step++) {
        const inputs = rows.map((r) => (r.promptLength + step < r.tokens.length ? [r.tokens[r.promptLength + step]] : undefined));
        if (inputs.every((x) => x === undefined)) break;
        inputs.forEach((x, i) => x && session.observe(i, x[0]));
        const o = model.forward(cache, inputs);
        record(o.logits, o.rows);
      }
    });
  } finally {
    session.dispose();
    guidance.dispose();
  }
  return out;
}

/** KL(p ‖ q) of the softmaxes of two logit vectors, in nats. */
export function klDivergence(pLogits: Float32Array, qLogits: Float32Array): number {
  const lp = logSoftmax(pLogits);
  const lq = logSoftmax(qLogits);
  let kl = 0;
  for (let i = 0; i < lp.length; i++) kl += Math.exp(lp[i]) * (lp[i] - lq[i]);
  return kl;
}

function logSoftmax(x: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of x) max = Math.max(max, v);
  let s = 0;
  for (const v of x) s += Math.exp(v - max);
  const lse = max + Math.log(s);
  return Float64Array.from(x, (v) => v - lse);
}

/** A story opening from the validation text, tokenized with BOS. */
export const STORY = tokenizer.encode('Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her dog. One day, she saw a big red ball under a tree.');

/**
 * The feature of the blocks.2 SAE whose decoder direction, added by hand (+4 at every position),
 * most raises the logit of `piece` after a story opening. Tests name features by what they do, not
 * by index, so retraining the shipped SAE does not break them; the choice is made with plain hooks,
 * one row per feature in one batch, independently of the steering engine.
 */
export function featureFor(piece: string): number {
  const token = Array.from({ length: tokenizer.vocabSize }, (_, id) => tokenizer.piece(id)).indexOf(piece);
  if (token < 0) throw new Error(`no token ${JSON.stringify(piece)}`);
  const { sae } = ctx.sae(HOOK);
  const { d_sae, d_in } = sae.config;
  const prompt = tokenizer.encode('Once upon a time, there was a little girl. She was very');
  const hooks = Array.from({ length: d_sae }, (_, j) => ({
    name: HOOK as typeof HOOK,
    row: j,
    fn: (a: { data: Float32Array }) => {
      for (let i = 0; i < a.data.length; i++) a.data[i] += 4 * sae.weights.W_dec[j * d_in + (i % d_in)];
    },
  }));
  const cache = model.newCache(d_sae, prompt.length);
  const out = model.hooks.with(hooks, () => model.forward(cache, new Array(d_sae).fill(prompt)));
  let best = 0;
  for (let j = 1; j < d_sae; j++) if (out.logits[j * VOCAB + token] > out.logits[best * VOCAB + token]) best = j;
  return best;
}
