import type { Command } from 'commander';
import { Option } from 'commander';
import { UsageError } from '../../errors.js';
import { loadModel } from '../../model/load-model.js';
import { readDictionaryLearning } from '../../sae/dictionary-learning-format.js';
import type { ReadForeignSaeOptions } from '../../sae/foreign-sae.js';
import { readGemmaScope } from '../../sae/gemma-scope-format.js';
import { readSaeLensFolder, writeSaeLensFolder } from '../../sae/saelens-format.js';
import type { Sae } from '../../sae/sae.js';
import { readSparsify } from '../../sae/sparsify-format.js';
import { checkOutputDir } from '../../util/output-target.js';

export const SAE_SOURCE_FORMATS = ['gemma-scope', 'sparsify', 'dictionary-learning', 'saelens'] as const;
export type SaeSourceFormat = (typeof SAE_SOURCE_FORMATS)[number];

export interface SaeConvertOptions {
  from: SaeSourceFormat;
  to: 'saelens';
  out: string;
  hook?: string;
  model?: string;
}

/** Reads `input` as `o.from`, checks it (against the model's hook when --model is given), and writes a SAELens v6 folder. */
export function saeConvert(input: string, o: SaeConvertOptions): { sae: Sae; out: string } {
  if (!(SAE_SOURCE_FORMATS as readonly string[]).includes(o.from)) throw new UsageError(`--from must be one of ${SAE_SOURCE_FORMATS.join(', ')}`);
  if (o.to !== 'saelens') throw new UsageError('--to must be saelens');
  checkOutputDir(o.out, '--out');
  const opts: ReadForeignSaeOptions = { hookName: o.hook };
  if (o.model !== undefined) opts.model = loadModel({ model: o.model }).model.config;
  const sae =
    o.from === 'gemma-scope' ? readGemmaScope(input, opts)
    : o.from === 'sparsify' ? readSparsify(input, opts)
    : o.from === 'dictionary-learning' ? readDictionaryLearning(input, opts)
    : readSaeLensFolder(input, opts);
  if (o.hook !== undefined) sae.config.metadata.hook_name = o.hook;
  writeSaeLensFolder(o.out, sae);
  return { sae, out: o.out };
}

/** `tinymorph sae convert`: another tool's SAE file → a SAELens v6 folder. */
export function registerSaeConvert(sae: Command): void {
  sae
    .command('convert')
    .description('convert an SAE from Gemma Scope (params.npz), sparsify (cfg.json + sae.safetensors), dictionary_learning (safetensors) or SAELens into a SAELens v6 folder')
    .argument('<input>', 'the SAE file or folder')
    .addOption(new Option('--from <format>', 'the input format').choices(SAE_SOURCE_FORMATS).makeOptionMandatory())
    .addOption(new Option('--to <format>', 'the output format').choices(['saelens']).default('saelens'))
    .requiredOption('--out <dir>', 'SAELens folder to write (files replaced atomically)')
    .option('--hook <name>', 'hook point the SAE reads, e.g. blocks.2.hook_resid_post (default: from the input)')
    .option('--model <file>', 'llama2.c model file: check that the hook exists and is d_in wide')
    .action((input: string, o: SaeConvertOptions) => {
      const { sae: s, out } = saeConvert(input, o);
      const c = s.config;
      const k = c.k === undefined ? '' : `, k=${c.k}`;
      process.stdout.write(`wrote ${out}: ${c.architecture} SAE, d_in=${c.d_in}, d_sae=${c.d_sae}${k}, hook ${c.metadata.hook_name ?? '(unknown)'}\n`);
    });
}
