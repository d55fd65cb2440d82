import type { Command } from 'commander';
import { Option } from 'commander';
import { TokenizerFileError, UsageError } from '../../errors.js';
import { GgufFile } from '../../model/gguf/gguf-reader.js';
import { llamaVocabBytes } from '../../model/gguf-vocab-tokenizer.js';
import { writeGgufLlama } from '../../model/gguf-llama-write.js';
import { writeHfLlama } from '../../model/hf-llama-write.js';
import { startsWithGgufMagic } from '../../model/model-format.js';
import { readModelFile } from '../../model/read-model-file.js';
import { READ_LIMITS, readFileBounded } from '../../util/bounded-read.js';
import { describeFsError } from '../../util/fs-error.js';
import { checkOutputDir, checkOutputFile } from '../../util/output-target.js';

interface ExportOptions {
  format: 'hf' | 'gguf';
  dtype: 'f32' | 'f16' | 'bf16' | 'q8_0';
  model?: string;
  tokenizer?: string;
  json?: boolean;
}

const DTYPES: Record<ExportOptions['format'], ExportOptions['dtype'][]> = { hf: ['f32', 'f16', 'bf16'], gguf: ['f32', 'f16', 'bf16', 'q8_0'] };

/** A model (any format --model reads) → an HF Llama folder or a GGUF llama file. */
export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write a model as an HF Llama folder (config.json + model.safetensors, q/k in HF\'s rotary order) or a GGUF llama file (with the tokenizer\'s vocabulary embedded)')
    .argument('<out>', 'folder (hf) or file (gguf) to write')
    .addOption(new Option('--format <format>', 'what to write').choices(['hf', 'gguf']).makeOptionMandatory())
    .addOption(new Option('--dtype <dtype>', 'how the weights are stored (hf: f32, f16, bf16; gguf: f32, f16, bf16, q8_0 — norms stay f32)').choices(['f32', 'f16', 'bf16', 'q8_0']).default('f32'))
    .option('--model <path>', 'llama2.c model file, HF Llama folder or .gguf file (default: the embedded stories260K)')
    .option('--tokenizer <file>', 'tokenizer whose vocabulary a GGUF file gets (tokenizer.bin or a GGUF file; default: the model\'s own, as --model loads it)')
    .option('--json', 'print JSON')
    .action((out: string, o: ExportOptions) => {
      if (!DTYPES[o.format].includes(o.dtype)) throw new UsageError(`--dtype ${o.dtype} is not available for --format ${o.format} (choose ${DTYPES[o.format].join(', ')})`);
      if (o.format === 'hf') checkOutputDir(out, 'out');
      else checkOutputFile(out, 'out');
      const file = readModelFile({ model: o.model, tokenizer: o.tokenizer });
      const dtype = o.dtype.toUpperCase() as 'F32' | 'F16' | 'BF16' | 'Q8_0';
      // A GGUF file gets the model's tokenizer (a GGUF model's own vocabulary, a llama2.c model's tok512 by default).
      const tokenizerBin = o.format === 'gguf' && file.tokenizerPath !== undefined ? vocabularyBytes(file.tokenizerPath) : undefined;
      try {
        if (o.format === 'hf') writeHfLlama(out, file.config, file.weights, { dtype: dtype as 'F32' | 'F16' | 'BF16' });
        else writeGgufLlama(out, file.config, file.weights, { dtype: dtype as 'F32' | 'F16' | 'BF16' | 'Q8_0', tokenizerBin, tokenizerLabel: file.tokenizerPath });
      } catch (e) {
        if (e instanceof Error && 'code' in e && typeof e.code === 'string' && e.code.startsWith('E')) throw new UsageError(`${out}: cannot write: ${describeFsError(e)}`);
        throw e;
      }
      const info = { output: out, format: o.format, dtype: o.dtype, from: file.format, model: file.modelPath };
      if (o.json) process.stdout.write(JSON.stringify(info) + '\n');
      else process.stdout.write(`wrote ${out}: ${o.format === 'hf' ? 'HF Llama folder' : 'GGUF llama file'}, ${o.dtype}, from ${file.modelPath} (${file.format})\n`);
    });
}

/** A tokenizer's vocabulary as tokenizer.bin bytes: the file itself, or a GGUF file's embedded one. */
function vocabularyBytes(path: string): Uint8Array {
  if (startsWithGgufMagic(path)) return llamaVocabBytes(GgufFile.open(path));
  return readFileBounded(path, READ_LIMITS.tokenizer, (problem) => new TokenizerFileError(path, problem));
}
