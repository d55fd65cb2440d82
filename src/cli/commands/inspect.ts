import type { Command } from 'commander';
import { ModelFileError } from '../../errors.js';
import { parameterCount, headSize, kvDim } from '../../model/llama-config.js';
import type { WeightSummary } from '../../model/llama-weights.js';
import { weightSummary } from '../../model/llama-weights.js';
import { scanNonFinite } from '../../model/weight-scan.js';
import type { NativeStatus } from '../../tensor/native-backend.js';
import { nativeStatus } from '../../tensor/native-backend.js';
import type { ModelOptions } from '../options.js';
import { addModelOptions, loadFromOptions } from '../options.js';

export function registerInspect(program: Command): void {
  addModelOptions(
    program
      .command('inspect')
      .description('show a model file: format, weight format (fp32 / q8_0) and bytes, config, parameter count, backend; flags NaN/Inf weights')
      .argument('[model]', 'llama2.c model file (default: the embedded stories260K)'),
  )
    .option('--json', 'print JSON')
    .action((path: string | undefined, o: ModelOptions & { json?: boolean }) => {
      const loaded = loadFromOptions({ ...o, model: path ?? o.model });
      const c = loaded.model.config;
      const nonFinite = scanNonFinite(loaded.model.weights, c);
      const info = {
        file: loaded.modelPath,
        format: loaded.format,
        bytes: loaded.fileBytes,
        weights: weightSummary(loaded.model.weights, c),
        backend: loaded.model.backend.name,
        native: nativeStatus(),
        config: { ...c, headSize: headSize(c), kvDim: kvDim(c) },
        parameters: parameterCount(c),
        tokenizer: { file: loaded.tokenizerPath, vocabSize: loaded.tokenizer.vocabSize },
        nonFiniteWeights: nonFinite.count,
      };
      if (o.json) process.stdout.write(JSON.stringify(info, null, 2) + '\n');
      else {
        const rows: [string, string][] = [
          ['file', info.file],
          ['format', `${info.format} (${info.bytes.toLocaleString('en-US')} bytes)`],
          ['weights', describeWeights(info.weights)],
          ['backend', `${info.backend}; native kernels: ${describeNative(info.native)}`],
          ['parameters', info.parameters.toLocaleString('en-US')],
          ['dim / hidden', `${c.dim} / ${c.hiddenDim}`],
          ['layers', String(c.nLayers)],
          ['heads / kv heads', `${c.nHeads} / ${c.nKvHeads} (head size ${info.config.headSize})`],
          ['vocab', String(c.vocabSize)],
          ['context', String(c.seqLen)],
          ['classifier', c.sharedClassifier ? 'shared with the embedding' : 'separate'],
          ['tokenizer', `${info.tokenizer.file} (${info.tokenizer.vocabSize} tokens)`],
          ['non-finite weights', String(nonFinite.count)],
        ];
        for (const [k, v] of rows) process.stdout.write(`${k.padEnd(20)}${v}\n`);
      }
      if (nonFinite.count > 0) {
        const where = nonFinite.tensors.map((t) => `${t.name} (${t.count}, first at index ${t.firstIndex})`).join(', ');
        throw new ModelFileError(loaded.modelPath, `${nonFinite.count} weights are NaN or infinite: ${where}`);
      }
    });
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
