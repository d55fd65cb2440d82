/**
 * Steering presets for the embedded model: CAA vectors (assets/steering/presets/<name>.safetensors,
 * built from the contrast sets in assets/steering/contrast/<name>/ by `tinymorph vector train`),
 * each with the strength it is meant to be used at and a measure of the text it should change, so
 * that its effect is a number (README, test/steer/presets.test.ts) rather than an impression.
 */

export interface TextMeasure {
  /** What is counted, e.g. "happy − sad words per 100 words". */
  name: string;
  /** +1: the preset should raise the measure; −1: lower it. */
  direction: 1 | -1;
  score(text: string): number;
}

export interface SteeringPreset {
  name: string;
  description: string;
  /** Strength used when the preset is named without one (× the CAA vector at its hook). */
  strength: number;
  measure: TextMeasure;
}

const words = (text: string): string[] => text.toLowerCase().match(/[a-z']+/g) ?? [];

/** Occurrences of any listed word (or word stem followed by letters) per 100 words. */
function perHundredWords(list: readonly string[], text: string): number {
  const w = words(text);
  if (w.length === 0) return 0;
  const hits = w.filter((x) => list.some((stem) => x === stem || (stem.endsWith('*') && x.startsWith(stem.slice(0, -1))))).length;
  return (100 * hits) / w.length;
}

const HAPPY = ['happy', 'happi*', 'smil*', 'laugh*', 'fun', 'love*', 'loved', 'joy*', 'glad', 'excit*', 'great', 'best', 'hug*', 'nice', 'kind'];
const SAD = ['sad', 'sadly', 'cry', 'cried', 'cries', 'crying', 'tear*', 'scared', 'angry', 'upset', 'hurt', 'lonely', 'bad', 'lost', 'mad', 'afraid'];
const ANIMALS = ['dog*', 'cat', 'cats', 'bird*', 'fish*', 'bunny', 'bunnies', 'rabbit*', 'bear*', 'duck*', 'frog*', 'lion*', 'puppy', 'puppies', 'kitten*', 'cow*', 'horse*', 'pig', 'pigs', 'mouse', 'mice', 'monkey*', 'elephant*', 'fox', 'owl*', 'squirrel*', 'bug*', 'bee', 'bees', 'animal*'];

export const PRESETS: readonly SteeringPreset[] = [
  {
    name: 'happy',
    description: 'happier stories (vs sad ones)',
    strength: 6,
    measure: { name: 'happy − sad words per 100 words', direction: 1, score: (t) => perHundredWords(HAPPY, t) - perHundredWords(SAD, t) },
  },
  {
    name: 'dialogue',
    description: 'more characters speaking in quotes (vs narration)',
    strength: 1,
    measure: { name: 'quotation marks per 100 words', direction: 1, score: (t) => (words(t).length ? (100 * (t.match(/["“”]/g) ?? []).length) / words(t).length : 0) },
  },
  {
    name: 'animals',
    description: 'stories about animals (vs people and things)',
    strength: 4,
    measure: { name: 'animal words per 100 words', direction: 1, score: (t) => perHundredWords(ANIMALS, t) },
  },
  {
    name: 'short-sentences',
    description: 'shorter sentences (vs long ones)',
    strength: 1,
    measure: { name: 'words per sentence', direction: -1, score: wordsPerSentence },
  },
];

function wordsPerSentence(text: string): number {
  const sentences = text.split(/[.!?]+/).map(words).filter((w) => w.length > 0);
  return sentences.length ? sentences.reduce((n, s) => n + s.length, 0) / sentences.length : 0;
}

export function presetByName(name: string): SteeringPreset | undefined {
  return PRESETS.find((p) => p.name === name);
}
