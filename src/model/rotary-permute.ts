/**
 * HF Llama checkpoints order the rows of q_proj and k_proj differently from Meta's original (and
 * llama2.c's and GGUF's) layout. Meta rotates interleaved pairs (rows 2i, 2i+1 of each head); HF's
 * `rotate_half` rotates the two halves (rows i, i + headSize/2), so transformers'
 * convert_llama_weights_to_hf.py `permute` moves Meta row 2i+j of a head to HF row j·headSize/2 + i
 * (w.view(n_heads, hs/2, 2, dim).transpose(1, 2)). llama2.c export.py `permute_reverse` and
 * llama.cpp's convert_hf_to_gguf.py `permute` undo it, which is what loading an HF folder does here.
 */

/** Meta/llama2.c row order → HF row order, for a [nHeads·headSize, cols] matrix. */
export function permuteToHf(w: Float32Array, nHeads: number, cols: number): Float32Array {
  return movedRows(w, nHeads, cols, (hs, i, j) => [2 * i + j, j * (hs / 2) + i]);
}

/** HF row order → Meta/llama2.c row order (the inverse of permuteToHf). */
export function permuteFromHf(w: Float32Array, nHeads: number, cols: number): Float32Array {
  return movedRows(w, nHeads, cols, (hs, i, j) => [j * (hs / 2) + i, 2 * i + j]);
}

/** A copy of w with, in each head, row `from` moved to row `to` for every pair i and half j. */
function movedRows(w: Float32Array, nHeads: number, cols: number, map: (hs: number, i: number, j: number) => [number, number]): Float32Array {
  const rows = w.length / cols;
  const hs = rows / nHeads;
  const out = new Float32Array(w.length);
  for (let h = 0; h < nHeads; h++) {
    for (let i = 0; i < hs / 2; i++) {
      for (let j = 0; j < 2; j++) {
        const [from, to] = map(hs, i, j);
        out.set(w.subarray((h * hs + from) * cols, (h * hs + from + 1) * cols), (h * hs + to) * cols);
      }
    }
  }
  return out;
}
