import type { Command } from 'commander';
import { generate } from '../../model/generate.js';
import type { ModelOptions } from '../options.js';
import { addModelOptions, loadFromOptions } from '../options.js';

const PROMPT = 'Once upon a time';

/** What `npm start` runs until the editor exists: a streamed story from the embedded model, then a tour of the CLI. */
export function registerDemo(program: Command): void {
  addModelOptions(program.command('demo').description('stream a short story from the embedded model and list what else tinymorph can do')).action((o: ModelOptions) => {
    const { model, tokenizer, modelPath } = loadFromOptions(o);
    process.stdout.write(`tinymorph — ${modelPath} on the ${model.backend.name} backend\n\n${PROMPT}`);
    const start = performance.now();
    const [r] = generate(model, tokenizer, [{ prompt: PROMPT, maxTokens: 200, sampling: { temperature: 0.8, topP: 0.9 } }], { onToken: (e) => process.stdout.write(e.text) });
    const tps = r.tokens.length / ((performance.now() - start) / 1000);
    process.stdout.write(`\n\n[${r.tokens.length} tokens at ${tps.toFixed(0)} tok/s]\n\n`);
    process.stdout.write(
      [
        'More:',
        '  tinymorph generate "Lily and Ben" -n 100 -t 0.8 --seed 1   continue a prompt (sampling, stop sequences, --json logprobs)',
        '  tinymorph tokenize "Once upon a time"                       see the tokens',
        '  tinymorph inspect                                           model config, parameters, format, NaN check',
        '  tinymorph perplexity assets/data/tinystories_val.txt --max-docs 25',
        '  tinymorph generate "Zoo" --quantize q8_0                    the same model with Q8_0 weights',
        '  tinymorph quantize in.bin out.bin                           write a Q8_0 (llama2.c version 2) copy of a model',
        '  tinymorph features search things; tinymorph features show 2:117   find SAE features and see their dashboards',
        '  tinymorph steer "Once upon a time" --preset dialogue      the same story unsteered and steered, side by side',
        '  tinymorph steer "Lily" --feature 2:248:+3 --guide 2:248:4  steer with an SAE feature and SAE-guided decoding',
        '  tinymorph sae train --out my-sae                          train an SAE on the embedded model (about half a minute)',
        '  tinymorph <command> --help',
        '',
      ].join('\n'),
    );
  });
}
