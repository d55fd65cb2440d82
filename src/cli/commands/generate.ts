import type { Command } from 'commander';
import { generate } from '../../model/generate.js';
import type { SamplingParams } from '../../model/sampling/sampling-params.js';
import type { ModelOptions } from '../options.js';
import { addModelOptions, collect, loadFromOptions, parseInteger, parseNumber } from '../options.js';

interface GenerateOptions extends ModelOptions {
  maxTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  minP: number;
  frequencyPenalty: number;
  presencePenalty: number;
  repetitionPenalty: number;
  seed?: number;
  stop: string[];
  logprobs: number;
  json?: boolean;
}

export function registerGenerate(program: Command): void {
  addModelOptions(
    program
      .command('generate')
      .description('continue a prompt with the model, streaming the text (defaults as llama2.c run.c: temperature 1, top-p 0.9)')
      .argument('[prompt]', 'text to continue', '')
      .option('-n, --max-tokens <n>', 'new tokens to generate at most', parseInteger(1), 256)
      .option('-t, --temperature <t>', '0 = greedy', parseNumber, 1)
      .option('--top-p <p>', 'nucleus sampling mass (1 = off)', parseNumber, 0.9)
      .option('--top-k <k>', 'keep the k most likely tokens (0 = off)', parseInteger(0), 0)
      .option('--min-p <p>', 'drop tokens below p × the top probability (0 = off)', parseNumber, 0)
      .option('--frequency-penalty <x>', 'OpenAI frequency penalty', parseNumber, 0)
      .option('--presence-penalty <x>', 'OpenAI presence penalty', parseNumber, 0)
      .option('--repetition-penalty <x>', 'CTRL repetition penalty (1 = off)', parseNumber, 1)
      .option('--seed <n>', 'PRNG seed (same seed ⇒ same text)', parseInteger(0))
      .option('--stop <text>', 'stop sequence (repeatable)', collect, [])
      .option('--logprobs <n>', 'report the n most likely alternatives per token (with --json)', parseInteger(0), 0),
  )
    .option('--json', 'print one JSON object with text, tokens, logprobs and timing')
    .action((prompt: string, o: GenerateOptions) => {
      const { model, tokenizer } = loadFromOptions(o);
      const sampling: Partial<SamplingParams> = {
        temperature: o.temperature,
        topP: o.topP,
        topK: o.topK,
        minP: o.minP,
        frequencyPenalty: o.frequencyPenalty,
        presencePenalty: o.presencePenalty,
        repetitionPenalty: o.repetitionPenalty,
        logprobs: o.logprobs,
      };
      const start = performance.now();
      if (!o.json) process.stdout.write(prompt);
      const [result] = generate(model, tokenizer, [{ prompt, maxTokens: o.maxTokens, sampling, seed: o.seed, stop: o.stop, logprobs: o.json }], (e) => {
        if (!o.json) process.stdout.write(e.text);
      });
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
