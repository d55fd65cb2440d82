/**
 * Contrast examples for steering vectors, from files:
 *  - a `.txt` file holds one example per line (blank lines are skipped; an example that needs
 *    several lines goes in a .jsonl file). Positive and negative examples come in two such files;
 *    when their counts match, line i of one is paired with line i of the other (as CAA's and
 *    repeng's datasets pair a positive with a negative completion of the same prompt), otherwise
 *    they are two unpaired sets, which the mean difference (CAA) still uses but PCA cannot.
 *  - a `.jsonl` file holds one pair per line: `{"positive": "...", "negative": "..."}`.
 */
import { extname } from 'node:path';
import { SteeringError, UsageError } from '../../errors.js';
import { READ_LIMITS, readTextBounded } from '../../util/bounded-read.js';

export interface ContrastExample {
  text: string;
  /** Where the example came from (`file:line`), for error messages. */
  where: string;
}

export interface ContrastSet {
  positive: ContrastExample[];
  negative: ContrastExample[];
  /** positive[i] and negative[i] are a pair. */
  paired: boolean;
}

function readText(path: string): string {
  return readTextBounded(path, READ_LIMITS.text, (problem) => new UsageError(`${path}: ${problem}`));
}

/** One example per non-blank line of a .txt file. */
export function readExampleLines(path: string): ContrastExample[] {
  if (extname(path).toLowerCase() !== '.txt') throw new UsageError(`${path}: examples are read from .txt files (one per line); pairs come in .jsonl files`);
  const examples = readText(path)
    .split(/\r?\n/)
    .map((line, i) => ({ text: line.trim(), where: `${path}:${i + 1}` }))
    .filter((e) => e.text.length > 0);
  if (examples.length === 0) throw new SteeringError(`${path}: holds no examples (one per line)`);
  return examples;
}

/** Positive and negative .txt files: paired when their counts match. */
export function readContrastFiles(positivePath: string, negativePath: string): ContrastSet {
  const positive = readExampleLines(positivePath);
  const negative = readExampleLines(negativePath);
  return { positive, negative, paired: positive.length === negative.length };
}

/** A .jsonl file of {"positive", "negative"} pairs. */
export function readContrastPairs(path: string): ContrastSet {
  if (extname(path).toLowerCase() !== '.jsonl') throw new UsageError(`${path}: pairs are read from .jsonl files ({"positive": ..., "negative": ...} per line)`);
  const positive: ContrastExample[] = [];
  const negative: ContrastExample[] = [];
  readText(path)
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (line.trim() === '') return;
      const where = `${path}:${i + 1}`;
      let pair: unknown;
      try {
        pair = JSON.parse(line);
      } catch {
        throw new SteeringError(`${where}: not valid JSON`);
      }
      const p = (pair as { positive?: unknown } | null)?.positive;
      const n = (pair as { negative?: unknown } | null)?.negative;
      if (typeof p !== 'string' || typeof n !== 'string' || p.trim() === '' || n.trim() === '') {
        throw new SteeringError(`${where}: expected {"positive": "<text>", "negative": "<text>"} with non-empty strings`);
      }
      positive.push({ text: p.trim(), where });
      negative.push({ text: n.trim(), where });
    });
  if (positive.length === 0) throw new SteeringError(`${path}: holds no pairs`);
  return { positive, negative, paired: true };
}
