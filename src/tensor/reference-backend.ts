import { ShapeError } from '../errors.js';
import type { Backend } from './backend.js';
import type { AttentionArgs, AttentionHeads } from './model-kernels.js';
import type { AdamStep, EncodePicks, EncodeTopKOptions, SparseDecodeGrads, SparseDecodeInputs } from './sae-kernels.js';
import { encodeTopKOnGrid } from './encode-topk-grid.js';
import type { Q80Matrix, WeightMatrix } from './weight-matrix.js';
import { isQ80 } from './weight-matrix.js';

/**
 * Plain-TypeScript kernels: the correctness reference every faster backend is tested against.
 * Straight loops as in llama2.c run.c; the only liberty is a 4-way unrolled dot product.
 */

function dot(a: Float32Array, aOff: number, b: Float32Array, bOff: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += a[aOff + i] * b[bOff + i];
    s1 += a[aOff + i + 1] * b[bOff + i + 1];
    s2 += a[aOff + i + 2] * b[bOff + i + 2];
    s3 += a[aOff + i + 3] * b[bOff + i + 3];
  }
  for (; i < n; i++) s0 += a[aOff + i] * b[bOff + i];
  return s0 + s1 + (s2 + s3);
}

function matmul(out: Float32Array, x: Float32Array, w: WeightMatrix, rows: number, n: number, d: number): void {
  if (isQ80(w)) return matmulQ80(out, x, w, rows, n, d);
  // Weight row outermost: each row of w is read once per call and reused for every input row.
  for (let o = 0; o < d; o++) {
    const wOff = o * n;
    for (let r = 0; r < rows; r++) out[r * d + o] = dot(x, r * n, w, wOff, n);
  }
}

/** Q8_0 weights times fp32 activations: per group, scale · Σ x·q (the activations stay fp32 here). */
function matmulQ80(out: Float32Array, x: Float32Array, w: Q80Matrix, rows: number, n: number, d: number): void {
  const gs = w.groupSize;
  const groups = n / gs;
  for (let o = 0; o < d; o++) {
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let g = 0; g < groups; g++) {
        let s = 0;
        const off = g * gs;
        for (let i = 0; i < gs; i++) s += x[r * n + off + i] * w.q[o * n + off + i];
        sum += s * w.scales[o * groups + g];
      }
      out[r * d + o] = sum;
    }
  }
}

function matmulNN(out: Float32Array, a: Float32Array, b: Float32Array, m: number, k: number, n: number): void {
  out.fill(0, 0, m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p];
      if (av === 0) continue; // sparse SAE activations: most rows of b are skipped
      for (let j = 0; j < n; j++) out[i * n + j] += av * b[p * n + j];
    }
  }
}

function matmulTN(out: Float32Array, a: Float32Array, b: Float32Array, m: number, k: number, n: number): void {
  out.fill(0, 0, m * n);
  for (let p = 0; p < k; p++) {
    for (let i = 0; i < m; i++) {
      const av = a[p * m + i];
      if (av === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] += av * b[p * n + j];
    }
  }
}

function topKRows(outIdx: Int32Array, outVal: Float32Array, x: Float32Array, rows: number, n: number, k: number): void {
  // Insertion into a sorted list of k: O(n·k), fine for a reference.
  for (let r = 0; r < rows; r++) {
    let filled = 0;
    const base = r * k;
    for (let i = 0; i < n; i++) {
      const v = x[r * n + i];
      if (filled === k && !(v > outVal[base + k - 1])) continue;
      let at = filled < k ? filled++ : k - 1;
      while (at > 0 && v > outVal[base + at - 1]) {
        outVal[base + at] = outVal[base + at - 1];
        outIdx[base + at] = outIdx[base + at - 1];
        at--;
      }
      outVal[base + at] = v;
      outIdx[base + at] = i;
    }
  }
}

/** encodeTopK as the composition it is defined by (the [rows, dSae] grid is allocated here). */
function encodeTopK(out: EncodePicks, x: Float32Array, w: Float32Array, bias: Float32Array, rows: number, dIn: number, dSae: number, k: number, opts: EncodeTopKOptions = {}): void {
  const n = opts.aux?.cols.length ?? 0;
  const grid = {
    pre: new Float32Array(rows * dSae), scores: new Float32Array(opts.scale ? rows * dSae : 0), vals: new Float32Array(rows * k),
    gathered: new Float32Array(rows * n), auxVals: new Float32Array(rows * (opts.aux?.k ?? 0)),
  };
  encodeTopKOnGrid(referenceBackend, out, x, w, bias, rows, dIn, dSae, k, opts, grid);
}

/** encodeRelu as the composition it is defined by (the [rows, dSae] grid is allocated here). */
function encodeRelu(idx: Int32Array, val: Float32Array, x: Float32Array, w: Float32Array, bias: Float32Array, rows: number, dIn: number, dSae: number): number {
  const pre = new Float32Array(rows * dSae);
  matmulNN(pre, x, w, rows, dIn, dSae);
  addRowVector(pre, bias, rows, dSae);
  return positiveEntries(idx, val, pre, rows, dSae);
}

function positiveEntries(idx: Int32Array, val: Float32Array, x: Float32Array, rows: number, n: number): number {
  if (idx.length < rows * n || val.length < rows * n) throw new ShapeError(`positiveEntries: idx and val need rows·n = ${rows}·${n} entries, have ${idx.length} and ${val.length}`);
  let k = 1;
  for (let r = 0; r < rows; r++) {
    let c = 0;
    for (let j = r * n; j < (r + 1) * n; j++) if (x[j] > 0) c++;
    if (c > k) k = c;
  }
  for (let r = 0; r < rows; r++) {
    let at = r * k;
    for (let j = 0; j < n; j++) {
      const v = x[r * n + j];
      if (v > 0) {
        idx[at] = j;
        val[at++] = v;
      }
    }
    idx.fill(0, at, (r + 1) * k);
    val.fill(0, at, (r + 1) * k);
  }
  return k;
}

function checkPicks(fn: string, idx: Int32Array, len: number, tableLength: number, arrays: [string, ArrayLike<number> | null][]): void {
  if (idx.length < len) throw new ShapeError(`${fn}: idx has ${idx.length} entries, len is ${len}`);
  for (const [name, a] of arrays) if (a && a.length < len) throw new ShapeError(`${fn}: ${name} has ${a.length} entries, len is ${len}`);
  checkIndices(fn, idx, len, tableLength);
}

function reluPicks(val: Float32Array, idx: Int32Array, len: number, counts: Int32Array): number {
  checkPicks('reluPicks', idx, len, counts.length, [['val', val]]);
  let active = 0;
  for (let i = 0; i < len; i++) {
    if (val[i] > 0) {
      counts[idx[i]]++;
      active++;
    } else {
      val[i] = 0;
    }
  }
  return active;
}

function scatterAddPicks(out: Float32Array, idx: Int32Array, val: Float32Array, len: number, gate: Float32Array | null): void {
  checkPicks('scatterAddPicks', idx, len, out.length, [['val', val], ['gate', gate]]);
  for (let i = 0; i < len; i++) {
    if (gate && gate[i] === 0) val[i] = 0;
    else out[idx[i]] += val[i];
  }
}

function scaleInto(out: Float32Array, x: Float32Array, s: number, len: number): void {
  for (let i = 0; i < len; i++) out[i] = x[i] * s;
}

function subRowVector(out: Float32Array, x: Float32Array, v: Float32Array, rows: number, n: number): void {
  for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) out[r * n + i] = x[r * n + i] - v[i];
}

/**
 * The sums of squares over a batch add entry i into partial sum i mod 8 and return
 * ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)): an order a backend can keep in SIMD lanes,
 * where one running sum waits on every add (a third of a millisecond per [4096, 64] pass).
 */
function laneSum(s: Float64Array): number {
  return s[0] + s[1] + (s[2] + s[3]) + (s[4] + s[5] + (s[6] + s[7]));
}

function squaredError(dOut: Float32Array, out: Float32Array, x: Float32Array, len: number, batch: number): number {
  const s = new Float64Array(8);
  for (let i = 0; i < len; i++) {
    const e = out[i] - x[i];
    s[i & 7] += e * e;
    dOut[i] = (2 * e) / batch;
  }
  return laneSum(s);
}

function columnSums(out: Float32Array, m: Float32Array, rows: number, width: number): void {
  out.fill(0, 0, width);
  for (let r = 0; r < rows; r++) for (let j = 0; j < width; j++) out[j] += m[r * width + j];
}

/** Rows per block of centeredSquares' sum: each block's lane sums are formed alone, then added in block order (so a backend may sum blocks on any thread). */
const CENTERED_BLOCK_ROWS = 256;

function centeredSquares(x: Float32Array, rows: number, width: number): number {
  const mean = new Float64Array(width);
  for (let r = 0; r < rows; r++) for (let j = 0; j < width; j++) mean[j] += x[r * width + j];
  for (let j = 0; j < width; j++) mean[j] /= rows;
  const s = new Float64Array(8);
  const block = new Float64Array(8);
  for (let r0 = 0; r0 < rows; r0 += CENTERED_BLOCK_ROWS) {
    block.fill(0);
    for (let r = r0; r < Math.min(rows, r0 + CENTERED_BLOCK_ROWS); r++) {
      for (let j = 0; j < width; j++) {
        const c = x[r * width + j] - mean[j];
        block[(r * width + j) & 7] += c * c;
      }
    }
    for (let l = 0; l < 8; l++) s[l] += block[l];
  }
  return laneSum(s);
}

function adamUpdate(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, h: AdamStep): void {
  const { beta1: b1, beta2: b2, eps, stepSize, sqrtC2 } = h;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i];
    const mi = (m[i] = b1 * m[i] + (1 - b1) * gi);
    const vi = (v[i] = b2 * v[i] + (1 - b2) * gi * gi);
    // torch: denom = √v / √(1 − β2^t) + ε; p −= (lr / (1 − β1^t)) · m / denom
    p[i] -= (stepSize * mi) / (Math.sqrt(vi) / sqrtC2 + eps);
  }
}

function checkIndices(fn: string, idx: Int32Array, count: number, tableRows: number): void {
  for (let i = 0; i < count; i++) {
    if (!(idx[i] >= 0 && idx[i] < tableRows)) throw new ShapeError(`${fn}: idx[${i}] = ${idx[i]} is outside the table's rows 0..${tableRows - 1}`);
  }
}

function gatherRows(out: Float32Array, idx: Int32Array, val: Float32Array, rows: number, k: number, table: Float32Array, width: number): void {
  checkIndices('gatherRows', idx, rows * k, table.length / width);
  out.fill(0, 0, rows * width);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < k; j++) {
      const v = val[r * k + j];
      if (v === 0) continue;
      const t = idx[r * k + j] * width;
      for (let i = 0; i < width; i++) out[r * width + i] += v * table[t + i];
    }
  }
}

function gatheredDots(out: Float32Array, a: Float32Array, idx: Int32Array, rows: number, k: number, table: Float32Array, width: number): void {
  checkIndices('gatheredDots', idx, rows * k, table.length / width);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < k; j++) {
      const t = idx[r * k + j] * width;
      let s = 0;
      for (let i = 0; i < width; i++) s += a[r * width + i] * table[t + i];
      out[r * k + j] = s;
    }
  }
}

function scatterRows(table: Float32Array, idx: Int32Array, val: Float32Array, rows: number, k: number, a: Float32Array, width: number): void {
  checkIndices('scatterRows', idx, rows * k, table.length / width);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < k; j++) {
      const v = val[r * k + j];
      if (v === 0) continue;
      const t = idx[r * k + j] * width;
      for (let i = 0; i < width; i++) table[t + i] += v * a[r * width + i];
    }
  }
}

function scatterRowsPair(
  table: Float32Array, idx: Int32Array, val: Float32Array, rows: number, k: number, a: Float32Array, width: number, table2: Float32Array, val2: Float32Array, a2: Float32Array,
): void {
  if (table2.length < table.length) throw new ShapeError(`scatterRowsPair: table2 has ${table2.length} elements, needs the length of table = ${table.length}`);
  scatterRows(table, idx, val, rows, k, a, width);
  scatterRows(table2, idx, val2, rows, k, a2, width);
}

function sparseDecodeBackward(o: SparseDecodeGrads, a: SparseDecodeInputs): { sse: number; active: number } {
  const { idx, act, rows, k, width } = a;
  const dSae = a.wDec.length / width;
  const need = (name: string, t: ArrayLike<number> | undefined, n: number, what: string): void => {
    if (t && t.length < n) throw new ShapeError(`sparseDecodeBackward: ${name} has ${t.length} elements, needs ${what} = ${n}`);
  };
  need('gradDec', o.gradDec, dSae * width, 'the length of table');
  need('gradEncT', o.gradEncT, dSae * width, 'the length of table');
  for (const [name, t] of [['gradBias', o.gradBias], ['counts', o.counts], ['actSums', o.actSums], ['dPreAddend', a.dPreAddend]] as const) need(name, t, dSae, "the table's rows");
  checkIndices('sparseDecodeBackward', idx, rows * k, dSae);
  const active = reluPicks(act, idx, rows * k, o.counts);
  gatherRows(o.out, idx, act, rows, k, a.wDec, width);
  addRowVector(o.out, a.bDec, rows, width);
  const sse = squaredError(o.dOut, o.out, a.x, rows * width, a.batch);
  gatheredDots(o.dPre, o.dOut, idx, rows, k, a.wDec, width);
  if (a.dPreAddend) for (let i = 0; i < rows * k; i++) if (act[i] !== 0) o.dPre[i] += a.dPreAddend[idx[i]];
  if (o.actSums) {
    o.actSums.fill(0, 0, dSae);
    scatterAddPicks(o.actSums, idx, act, rows * k, null);
  }
  o.gradBias.fill(0, 0, dSae);
  scatterAddPicks(o.gradBias, idx, o.dPre, rows * k, act);
  o.gradDec.fill(0, 0, dSae * width);
  scatterRows(o.gradDec, idx, act, rows, k, o.dOut, width);
  o.gradEncT.fill(0, 0, dSae * width);
  scatterRows(o.gradEncT, idx, o.dPre, rows, k, a.saeIn, width);
  return { sse, active };
}

/** In square tiles (both sides stay in cache). */
function transpose(out: Float32Array, a: Float32Array, rows: number, cols: number): void {
  if (a.length < rows * cols || out.length < rows * cols) throw new ShapeError(`transpose: a has ${a.length} and out ${out.length} elements, both need rows·cols = ${rows}·${cols}`);
  const T = 32;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(rows, r0 + T);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(cols, c0 + T);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = a[r * cols + c];
    }
  }
}

function addRowVector(x: Float32Array, v: Float32Array, rows: number, n: number): void {
  for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) x[r * n + i] += v[i];
}

function rmsnorm(out: Float32Array, x: Float32Array, weight: Float32Array, rows: number, size: number, eps: number): void {
  for (let r = 0; r < rows; r++) {
    const off = r * size;
    let ss = 0;
    for (let i = 0; i < size; i++) ss += x[off + i] * x[off + i];
    const scale = 1 / Math.sqrt(ss / size + eps);
    for (let i = 0; i < size; i++) out[off + i] = weight[i] * (scale * x[off + i]);
  }
}

function rope(x: Float32Array, positions: Int32Array, rows: number, width: number, headSize: number, cosSin: Float32Array): void {
  const half = headSize / 2;
  for (let r = 0; r < rows; r++) {
    const tab = positions[r] * half * 2;
    const off = r * width;
    for (let i = 0; i < width; i += 2) {
      const j = tab + (i % headSize);
      const c = cosSin[j];
      const s = cosSin[j + 1];
      const v0 = x[off + i];
      const v1 = x[off + i + 1];
      x[off + i] = v0 * c - v1 * s;
      x[off + i + 1] = v0 * s + v1 * c;
    }
  }
}

function swiglu(gate: Float32Array, up: Float32Array, len: number): void {
  for (let i = 0; i < len; i++) {
    const g = gate[i];
    gate[i] = (g / (1 + Math.exp(-g))) * up[i];
  }
}

function addInPlace(x: Float32Array, y: Float32Array, len: number): void {
  for (let i = 0; i < len; i++) x[i] += y[i];
}

function softmax(x: Float32Array, offset: number, len: number): void {
  let max = -Infinity;
  for (let i = 0; i < len; i++) if (x[offset + i] > max) max = x[offset + i];
  let sum = 0;
  for (let i = 0; i < len; i++) {
    const e = Math.exp(x[offset + i] - max);
    x[offset + i] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let i = 0; i < len; i++) x[offset + i] *= inv;
}

/** Softmaxed scores of one query head against keys 0..pos, written to dst[dstOff..]. */
function headScores(
  dst: Float32Array,
  dstOff: number,
  q: Float32Array,
  qOff: number,
  keys: Float32Array,
  kvHeadOff: number,
  kvDim: number,
  headSize: number,
  pos: number,
): void {
  const scale = 1 / Math.sqrt(headSize);
  for (let k = 0; k <= pos; k++) dst[dstOff + k] = dot(q, qOff, keys, k * kvDim + kvHeadOff, headSize) * scale;
  softmax(dst, dstOff, pos + 1);
}

/** out[outOff..+headSize] = Σ_k weights[k]·V[k, head]. */
function weightedValues(
  out: Float32Array,
  outOff: number,
  weights: Float32Array,
  wOff: number,
  values: Float32Array,
  kvHeadOff: number,
  kvDim: number,
  headSize: number,
  pos: number,
): void {
  out.fill(0, outOff, outOff + headSize);
  for (let k = 0; k <= pos; k++) {
    const a = weights[wOff + k];
    const vOff = k * kvDim + kvHeadOff;
    for (let i = 0; i < headSize; i++) out[outOff + i] += a * values[vOff + i];
  }
}

function attention(
  out: Float32Array,
  q: Float32Array,
  keys: Float32Array,
  values: Float32Array,
  a: AttentionArgs,
  scores: Float32Array,
): void {
  const { nHeads, headSize } = a;
  const width = nHeads * headSize;
  const kvDim = a.nKvHeads * headSize;
  const group = nHeads / a.nKvHeads;
  for (let t = 0; t < a.count; t++) {
    const pos = a.startPos + t;
    const rowOff = (a.tokenOffset + t) * width;
    for (let h = 0; h < nHeads; h++) {
      const kvHeadOff = Math.floor(h / group) * headSize;
      headScores(scores, 0, q, rowOff + h * headSize, keys, kvHeadOff, kvDim, headSize, pos);
      weightedValues(out, rowOff + h * headSize, scores, 0, values, kvHeadOff, kvDim, headSize, pos);
    }
  }
}

/** attention() per segment, on views of each segment's cache row. */
function attentionRows(out: Float32Array, q: Float32Array, keys: Float32Array, values: Float32Array, segments: Int32Array, nSeg: number, capacity: number, heads: AttentionHeads, scores: Float32Array): void {
  const rowSize = capacity * heads.nKvHeads * heads.headSize;
  for (let s = 0; s < nSeg; s++) {
    const [tokenOffset, count, startPos, row] = segments.subarray(4 * s, 4 * s + 4);
    const at = row * rowSize;
    attention(out, q, keys.subarray(at, at + rowSize), values.subarray(at, at + rowSize), { ...heads, tokenOffset, count, startPos }, scores);
  }
}

function attentionPattern(pattern: Float32Array, q: Float32Array, keys: Float32Array, a: AttentionArgs, stride: number): void {
  const { nHeads, headSize } = a;
  const kvDim = a.nKvHeads * headSize;
  const group = nHeads / a.nKvHeads;
  for (let t = 0; t < a.count; t++) {
    const pos = a.startPos + t;
    for (let h = 0; h < nHeads; h++) {
      const dstOff = ((a.tokenOffset + t) * nHeads + h) * stride;
      pattern.fill(0, dstOff + pos + 1, dstOff + stride);
      const qOff = (a.tokenOffset + t) * nHeads * headSize + h * headSize;
      headScores(pattern, dstOff, q, qOff, keys, Math.floor(h / group) * headSize, kvDim, headSize, pos);
    }
  }
}

function attentionApply(out: Float32Array, pattern: Float32Array, values: Float32Array, a: AttentionArgs, stride: number): void {
  const { nHeads, headSize } = a;
  const kvDim = a.nKvHeads * headSize;
  const group = nHeads / a.nKvHeads;
  for (let t = 0; t < a.count; t++) {
    const pos = a.startPos + t;
    for (let h = 0; h < nHeads; h++) {
      const wOff = ((a.tokenOffset + t) * nHeads + h) * stride;
      const outOff = (a.tokenOffset + t) * nHeads * headSize + h * headSize;
      weightedValues(out, outOff, pattern, wOff, values, Math.floor(h / group) * headSize, kvDim, headSize, pos);
    }
  }
}

export const referenceBackend: Backend = {
  name: 'reference',
  matmul,
  matmulNN,
  matmulTN,
  topKRows,
  encodeTopK,
  gatherRows,
  gatheredDots,
  scatterRows,
  scatterRowsPair,
  sparseDecodeBackward,
  transpose,
  encodeRelu,
  positiveEntries,
  reluPicks,
  scatterAddPicks,
  addRowVector,
  scaleInto,
  subRowVector,
  squaredError,
  columnSums,
  centeredSquares,
  adamUpdate,
  rmsnorm,
  rope,
  swiglu,
  addInPlace,
  softmax,
  attention,
  attentionRows,
  attentionPattern,
  attentionApply,
};
