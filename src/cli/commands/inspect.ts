import type { Command } from 'commander';
import { ModelFileError, TokenizerFileError } from '../../errors.js';
import { parameterCount, headSize, kvDim } from '../../model/llama-config.js';
import type { WeightSummary } from '../../model/llama-weights.js';
import { weightSummary } from '../../model/llama-weights.js';
import { assembleModel } from '../../model/load-model.js';
import type { TensorDescription } from '../../model/model-format.js';
import { readModelFile } from '../../model/read-model-file.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import { scanNonFinite } from '../../model/weight-scan.js';
import { activeBackend, setActiveBackend } from '../../tensor/backend-registry.js';
import type { NativeStatus } from '../../tensor/native-backend.js';
import { nativeStatus } from '../../tensor/native-backend.js';
import type { ModelOptions } from '../options.js';
import { addModelOptions } from '../options.js';

export function registerInspect(program: Command): void {
  addModelOptions(
    program
      .command('inspect')
      .description('show a model: format, architecture, stored tensors and dtypes, weight format in memory (fp32 / q8_0) and bytes, config, parameter count, tokenizer, backend; flags NaN/Inf weights')
      .argument('[model]', 'llama2.c model file, HF Llama folder or .gguf file (default: the embedded stories260K)'),
  )
    .option('--json', 'print JSON')
    .action((path: string | undefined, o: ModelOptions & { json?: boolean }) => {
      if (o.backend) setActiveBackend(o.backend);
      const file = readModelFile({ model: path ?? o.model, tokenizer: o.tokenizer, quantize: o.quantize });
      // An HF folder without a tokenizer.json (and no --tokenizer) is still described; the tokenizer line says what is missing.
      let tokenizer: Tokenizer | undefined;
      let tokenizerProblem = '';
      try {
        tokenizer = assembleModel(file).tokenizer;
      } catch (e) {
        if (!(e instanceof TokenizerFileError && file.format === 'hf-llama' && o.tokenizer === undefined)) throw e;
        tokenizerProblem = e.message;
      }
      const c = file.config;
      const nonFinite = scanNonFinite(file.weights, c);
      const stored = file.description.tensors;
      const info = {
        file: file.modelPath,
        format: file.format,
        architecture: file.description.architecture,
        bytes: file.fileBytes,
        tensors: { count: stored.length, dtypes: countDtypes(stored), list: stored },
        weights: weightSummary(file.weights, c),
        backend: activeBackend().name,
        native: nativeStatus(),
        config: { ...c, headSize: headSize(c), kvDim: kvDim(c) },
        parameters: parameterCount(c),
        tokenizer: tokenizer ? { file: file.tokenizerPath, vocabSize: tokenizer.vocabSize } : null,
        nonFiniteWeights: nonFinite.count,
      };
      if (o.json) process.stdout.write(JSON.stringify(info, null, 2) + '\n');
      else {
        const rows: [string, string][] = [
          ['file', info.file],
          ['format', `${info.format} (${info.bytes.toLocaleString('en-US')} bytes)`],
          ['architecture', info.architecture],
          ['tensors', `${stored.length} stored: ${Object.entries(info.tensors.dtypes).map(([d, n]) => `${n} ${d}`).join(', ')}`],
          ...shapeRows(stored),
          ['weights', describeWeights(info.weights)],
          ['backend', `${info.backend}; native kernels: ${describeNative(info.native)}`],
          ['parameters', info.parameters.toLocaleString('en-US')],
          ['dim / hidden', `${c.dim} / ${c.hiddenDim}`],
          ['layers', String(c.nLayers)],
          ['heads / kv heads', `${c.nHeads} / ${c.nKvHeads} (head size ${info.config.headSize})`],
          ['vocab', String(c.vocabSize)],
          ['context', String(c.seqLen)],
          ['classifier', c.sharedClassifier ? 'shared with the embedding' : 'separate'],
          ['tokenizer', info.tokenizer ? `${info.tokenizer.file} (${info.tokenizer.file === info.file ? 'its embedded vocabulary, ' : ''}${info.tokenizer.vocabSize} tokens)` : `none: ${tokenizerProblem}`],
          ['non-finite weights', String(nonFinite.count)],
        ];
        for (const [k, v] of rows) process.stdout.write(`${k.padEnd(20)}${v}\n`);
      }
      if (nonFinite.count > 0) {
        const where = nonFinite.tensors.map((t) => `${t.name} (${t.count}, first at index ${t.firstIndex})`).join(', ');
        throw new ModelFileError(file.modelPath, `${nonFinite.count} weights are NaN or infinite: ${where}`);
      }
    });
}

function countDtypes(tensors: readonly TensorDescription[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of tensors) out[t.dtype] = (out[t.dtype] ?? 0) + 1;
  return out;
}

/** The first layer's tensors and those outside the layers, with dtype and stored shape (the other layers repeat layer 0). */
function shapeRows(tensors: readonly TensorDescription[]): [string, string][] {
  const repeated = /(^|\.)(layers|blk)\.([1-9]\d*)\./;
  const shown = tensors.filter((t) => !repeated.test(t.name));
  const width = Math.max(...shown.map((t) => t.name.length)) + 2;
  return shown.map((t) => ['', `${t.name.padEnd(width)}${t.dtype} [${t.shape.join(', ')}]`]);
}

/** "fp32, 1,040,128 bytes" or "q8_0 in groups of 32 (w2: 4), 385,536 bytes". */
function describeWeights(s: WeightSummary): string {
  const bytes = `${s.bytes.toLocaleString('en-US')} bytes`;
  const sizes = Object.entries(s.groupSizes);
  if (sizes.length === 0) return `${s.format}, ${bytes}`;
  const count = new Map<number, number>();
  for (const [, g] of sizes) count.set(g, (count.get(g) ?? 0) + 1);
  const common = [...count].sort((a, b) => b[1] - a[1])[0][0];
  const others = sizes.filter(([, g]) => g !== common).map(([n, g]) => `${n}: ${g}`);
  return `${s.format} in groups of ${common}${others.length ? ` (${others.join(', ')})` : ''}, ${bytes}`;
}

/** "avx512, 2 threads" or why the native kernels are not there. */
function describeNative(s: NativeStatus): string {
  return s.available ? `${s.simd}, ${s.threads} threads` : `unavailable — ${s.reason}`;
}
