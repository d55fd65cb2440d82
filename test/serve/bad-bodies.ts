import { Prng } from '../../src/model/sampling/prng.js';

/**
 * Seeded generator of bad request bodies: mutations of a valid body (a field's value replaced by
 * one of the wrong type or range, removed, or joined by an unknown field; the whole body replaced)
 * and mutations of its JSON text (NaN, Infinity, numbers past float range, truncation, stray
 * characters, trailing commas, comments, lone surrogates). Some mutations leave a body that is
 * still valid (an unknown field ignored, a number still in range): the server may answer those 200.
 */
const DEEP = 5_000;
const HUGE = 200_000;

/** Values of every JSON type and of the awkward sizes and ranges. */
function oddValues(): unknown[] {
  let deepArray: unknown = [];
  let deepObject: unknown = {};
  for (let i = 0; i < DEEP; i++) {
    deepArray = [deepArray];
    deepObject = { a: deepObject };
  }
  return [
    null, true, false, 0, -1, 1.5, -0.5, 1e308, -1e308, 2 ** 53 + 2, 1e-320, 3, 129, 513, 100000,
    '', ' ', 'x', '🙂', '\u0000', 'blocks.2.hook_resid_post', '../../etc/passwd', '/etc/passwd', 'NaN', 'SIMPLE_ADDITIVE', 'x'.repeat(HUGE),
    [], [1], ['a'], [null], [1, 'a', {}], Array.from({ length: 5000 }, (_, i) => i), [[1, 2], [3]],
    {}, { a: 1 }, { features: [] }, { layer: 2, index: 99999, strength: 1 }, { source: 'nowhere', index: 1, strength: 1 }, { vector: 'nope', strength: 1 },
    deepArray, deepObject,
  ];
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export class BadBodies {
  private readonly rng: Prng;
  private readonly odd = oddValues();

  constructor(seed: number) {
    this.rng = new Prng(seed);
  }

  private int(n: number): number {
    return Math.floor(this.rng.nextFloat() * n);
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  /** One mutation of `valid`, as the request body text. */
  next(valid: Json): string {
    const r = this.rng.nextFloat();
    if (r < 0.6) return this.jsonText(this.mutateTree(structuredClone(valid)));
    if (r < 0.93) return this.mutateText(JSON.stringify(valid));
    return this.jsonText(this.pick(this.odd) as Json); // the whole body something else
  }

  private jsonText(v: Json): string {
    try {
      return JSON.stringify(v);
    } catch {
      // Too deep for JSON.stringify: write the nesting out directly.
      return `${'['.repeat(DEEP)}${']'.repeat(DEEP)}`;
    }
  }

  /** Replaces, removes or adds one node somewhere in the tree (the root included). */
  private mutateTree(root: Json): Json {
    const containers: Json[] = [];
    const walk = (v: Json): void => {
      if (v !== null && typeof v === 'object') {
        containers.push(v);
        for (const c of Object.values(v)) walk(c as Json);
      }
    };
    walk(root);
    const at = this.pick(containers);
    const keys = Object.keys(at as object);
    const op = this.int(4);
    const value = (): Json => (this.int(5) === 0 ? this.wrongType((at as Record<string, Json>)[this.pick(keys)]) : (this.pick(this.odd) as Json));
    if (Array.isArray(at)) {
      if (op === 0 && at.length > 0) at.splice(this.int(at.length), 1);
      else if (op === 1) at.push(value());
      else if (at.length > 0) at[this.int(at.length)] = value();
      else at.push(value());
    } else {
      const o = at as Record<string, Json>;
      if (op === 0 && keys.length > 0) delete o[this.pick(keys)];
      else if (op === 1) o[this.pick(['extra', 'colour', '__proto__', 'constructor', 'steering', 'stream', 'n', 'logprobs', 'source'])] = value();
      else if (keys.length > 0) o[this.pick(keys)] = value();
    }
    return root;
  }

  /** A value of another type than `v`. */
  private wrongType(v: Json | undefined): Json {
    if (typeof v === 'string') return this.pick([7, null, [v], { v }]);
    if (typeof v === 'number') return this.pick([String(v), -v - 1, v * 1e6, [v], true]);
    if (typeof v === 'boolean') return this.pick(['true', 1, null]);
    if (Array.isArray(v)) return this.pick([{ ...v }, v.length, '']);
    return this.pick(['{}', [], 0]);
  }

  private mutateText(text: string): string {
    const numbers = [...text.matchAll(/-?\d+(\.\d+)?/g)];
    const at = this.int(text.length + 1);
    switch (this.int(10)) {
      case 0:
      case 1: {
        if (numbers.length === 0) return `${text}NaN`;
        const m = this.pick(numbers);
        const bad = this.pick(['NaN', 'Infinity', '-Infinity', '1e999', '-1e999', '0x10', '01', '1.', '.5', '+1', '1e', '--1']);
        return text.slice(0, m.index) + bad + text.slice((m.index as number) + m[0].length);
      }
      case 2:
        return text.slice(0, at);
      case 3:
        return text.slice(0, at) + this.pick(['{', '}', '[', ']', ',', ':', '"', '\\', '\u0000', "'", 'undefined']) + text.slice(at);
      case 4:
        return text.replace(/}$/, ',}');
      case 5:
        return `// comment\n${text}`;
      case 6:
        return text.replace(/"([a-z_]+)":/, '"$1": "\\ud800", "$1":');
      case 7:
        return `\ufeff${text}`;
      case 8:
        return this.pick(['', ' ', 'null', 'true', '[]', '"prompt"', 'prompt=hello', '<xml/>', '{"prompt": "x"} {"prompt": "y"}']);
      default:
        return text.replace(/"([a-z_]+)"/, (_, k: string) => `"${k.toUpperCase()}"`);
    }
  }
}
