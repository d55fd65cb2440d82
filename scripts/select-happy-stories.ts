/**
 * The `happy` contrast set: the 150 happiest and 150 saddest stories of the shipped TinyStories
 * train sample (stories of 200–900 characters, ranked by (happy − sad words) per word), one story
 * per line. Hand-written one-line pairs gave no reliable effect on the 260K model; whole stories,
 * read as the mean over their tokens, do (README, "Steering presets"). Deterministic.
 * Run: npx tsx scripts/select-happy-stories.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { trainSampleTextPath } from '../src/model/embedded.js';
import { assetPath } from '../src/util/package-root.js';

const HAPPY = /\b(happy|happily|smil\w*|laugh\w*|glad|joy\w*|excited)\b/gi;
const SAD = /\b(sad|sadly|cr(y|ied|ies|ying)|tears?|upset|scared|angry|lonely)\b/gi;
const COUNT = 150;

const stories = readFileSync(trainSampleTextPath(), 'utf8')
  .split('<|endoftext|>')
  .map((s) => s.split(/\s+/).filter(Boolean).join(' '))
  .filter((s) => s.length >= 200 && s.length <= 900);
const score = (s: string): number => ((s.match(HAPPY) ?? []).length - (s.match(SAD) ?? []).length) / s.split(' ').length;
const ranked = stories.map((s, i) => ({ s, i, score: score(s) })).sort((a, b) => a.score - b.score || a.i - b.i);
const dir = assetPath('steering', 'contrast', 'happy');
writeFileSync(`${dir}/positive.txt`, `${ranked.slice(-COUNT).map((r) => r.s).join('\n')}\n`);
writeFileSync(`${dir}/negative.txt`, `${ranked.slice(0, COUNT).map((r) => r.s).join('\n')}\n`);
