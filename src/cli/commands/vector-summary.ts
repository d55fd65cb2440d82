import type { SteeringVectorSet } from '../../steer/steering-vector-set.js';

export function vectorNorm(v: Float32Array): number {
  let s = 0;
  for (const a of v) s += a * a;
  return Math.sqrt(s);
}

/** What a vector file holds, for the terminal: metadata, then one line per hook with width and L2 norm. */
export function printVectorSummary(file: string, set: SteeringVectorSet): void {
  const meta = Object.entries(set.metadata).map(([k, v]) => `${k}=${v}`).join(' ');
  process.stdout.write(`${file}: ${set.vectors.size} vector${set.vectors.size === 1 ? '' : 's'}${meta ? ` (${meta})` : ''}\n`);
  const pad = Math.max(...[...set.vectors.keys()].map((h) => h.length));
  for (const [hook, v] of set.vectors) process.stdout.write(`  ${hook.padEnd(pad)}  width ${v.length}  norm ${vectorNorm(v).toFixed(4)}\n`);
}
