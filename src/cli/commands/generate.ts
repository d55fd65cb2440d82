import type { Command } from 'commander';
import { generate } from '../../model/generate.js';
import type { SamplingParams } from '../../model/sampling/sampling-params.js';
import type { ModelOptions } from '../options.js';
import { addModelOptions, loadFromOptions, parseInteger } from '../options.js';
import type { SamplingOptions } from '../sampling-options.js';
import { addSamplingOptions, samplingFromOptions } from '../sampling-options.js';
import { textFromArgOrFile } from '../text-input.js';

interface GenerateOptions extends ModelOptions, SamplingOptions {
  promptFile?: string;
  logprobs: number;
  json?: boolean;
}

export function registerGenerate(program: Command): void {
  addModelOptions(
    addSamplingOptions(
      program
        .command('generate')
        .description('continue a prompt with the model, streaming the text (defaults as llama2.c run.c: temperature 1, top-p 0.9)')
        .argument('[prompt]', 'text to continue', '')
        .option('--prompt-file <file>', 'read the prompt from a file ("-": standard input; one trailing newline dropped)'),
    ).option('--logprobs <n>', 'report the n most likely alternatives per token (with --json)', parseInteger(0), 0),
  )
    .option('--json', 'print one JSON object with text, tokens, logprobs and timing')
    .action((arg: string, o: GenerateOptions) => {
      const prompt = textFromArgOrFile(arg, o.promptFile, '--prompt-file', 'prompt');
      const { model, tokenizer } = loadFromOptions(o);
      const sampling: Partial<SamplingParams> = { ...samplingFromOptions(o), logprobs: o.logprobs };
      const start = performance.now();
      // The prompt is echoed with the first token (every run samples one), once the prompt has been checked and prefilled.
      let echo = o.json ? '' : prompt;
      const [result] = generate(model, tokenizer, [{ prompt, maxTokens: o.maxTokens, sampling, seed: o.seed, stop: o.stop, logprobs: o.json }], { onToken: (e) => {
        if (!o.json) process.stdout.write(echo + e.text);
        echo = '';
      } });
      const seconds = (performance.now() - start) / 1000;
      const tokensPerSecond = result.tokens.length / seconds;
      if (o.json) {
        const logprobs = result.logprobs.map((t) => ({
          token: t.token,
          text: tokenizer.piece(t.token),
          logprob: t.logprob,
          top: t.top.map((a) => ({ token: a.token, text: tokenizer.piece(a.token), logprob: a.logprob })),
        }));
        process.stdout.write(JSON.stringify({ prompt, ...result, logprobs, seconds, tokens_per_s: tokensPerSecond }) + '\n');
      } else {
        process.stdout.write('\n');
        process.stderr.write(`[${result.tokens.length} tokens, ${tokensPerSecond.toFixed(0)} tok/s, finish: ${result.finishReason}]\n`);
      }
    });
}
