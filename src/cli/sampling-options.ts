import type { Command } from 'commander';
import type { SamplingParams } from '../model/sampling/sampling-params.js';
import { collect, parseInteger, parseNumber } from './options.js';

/** The sampling flags of every generating command (defaults as llama2.c run.c: temperature 1, top-p 0.9). */
export interface SamplingOptions {
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
}

export function addSamplingOptions(cmd: Command, defaultMaxTokens = 256): Command {
  return cmd
    .option('-n, --max-tokens <n>', 'new tokens to generate at most', parseInteger(1), defaultMaxTokens)
    .option('-t, --temperature <t>', '0 = greedy', parseNumber, 1)
    .option('--top-p <p>', 'nucleus sampling mass (1 = off)', parseNumber, 0.9)
    .option('--top-k <k>', 'keep the k most likely tokens (0 = off)', parseInteger(0), 0)
    .option('--min-p <p>', 'drop tokens below p × the top probability (0 = off)', parseNumber, 0)
    .option('--frequency-penalty <x>', 'OpenAI frequency penalty', parseNumber, 0)
    .option('--presence-penalty <x>', 'OpenAI presence penalty', parseNumber, 0)
    .option('--repetition-penalty <x>', 'CTRL repetition penalty (1 = off)', parseNumber, 1)
    .option('--seed <n>', 'PRNG seed (same seed ⇒ same text)', parseInteger(0))
    .option('--stop <text>', 'stop sequence (repeatable)', collect, []);
}

export function samplingFromOptions(o: SamplingOptions): Partial<SamplingParams> {
  return {
    temperature: o.temperature,
    topP: o.topP,
    topK: o.topK,
    minP: o.minP,
    frequencyPenalty: o.frequencyPenalty,
    presencePenalty: o.presencePenalty,
    repetitionPenalty: o.repetitionPenalty,
  };
}
