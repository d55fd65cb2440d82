/**
 * Mutations of a valid JSON document (cfg.json, manifests, steering specs, a safetensors header):
 * one value replaced by a hostile one — out-of-range, negative, fractional or overflowing numbers
 * (`1e400` parses to Infinity), the wrong type, deeply nested arrays or objects (thousands of
 * levels: deeper than any recursive walk survives), megabyte strings and arrays — or a key
 * removed, an unknown key added, or the text itself broken. Values that JSON.stringify cannot
 * write (1e400, 100,000 levels of nesting) go in as raw text through placeholders.
 */
import type { FuzzRng } from './fuzz-rng.js';

export interface JsonHints {
  /** Strings that mean something in this format (dtypes, method names, hook names), tried as values. */
  strings?: readonly string[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Slot {
  parent: Json[] | { [key: string]: Json } | undefined;
  key: string | number;
}

const RAW_MARK = '\u0000raw';

/** A mutated copy of JSON text; `how` says what changed. Text that is not JSON gets text-level mutations only. */
export function mutateJson(text: string, rng: FuzzRng, hints: JsonHints = {}): { text: string; how: string } {
  let root: Json;
  try {
    root = JSON.parse(text) as Json;
  } catch {
    return breakText(text, rng);
  }
  if (rng.chance(0.08)) return breakText(text, rng);
  const holder = { root };
  const slots = collectSlots(holder);
  const raws: string[] = [];
  const hows: string[] = [];
  const n = rng.chance(0.7) ? 1 : rng.range(2, 3);
  for (let i = 0; i < n; i++) {
    const slot = rng.pick(slots);
    hows.push(mutateSlot(slot, rng, hints, raws));
  }
  let out = JSON.stringify(holder.root, null, rng.chance(0.5) ? 2 : undefined) ?? 'null';
  raws.forEach((raw, i) => (out = out.replace(JSON.stringify(`${RAW_MARK}${i}`), () => raw)));
  return { text: out, how: hows.join('; ') };
}

/** Every value's place in the tree (the first few thousand), the root included. */
function collectSlots(holder: { root: Json }): Slot[] {
  const slots: Slot[] = [{ parent: holder as unknown as { [key: string]: Json }, key: 'root' }];
  const stack: Json[] = [holder.root];
  while (stack.length > 0 && slots.length < 4000) {
    const v = stack.pop()!;
    if (Array.isArray(v)) {
      // Long arrays (weights inlined in a spec) contribute a few elements, not all of them.
      const step = Math.max(1, Math.floor(v.length / 16));
      for (let i = 0; i < v.length; i += step) (slots.push({ parent: v, key: i }), stack.push(v[i]));
    } else if (v !== null && typeof v === 'object') {
      for (const k of Object.keys(v)) (slots.push({ parent: v, key: k }), stack.push(v[k]));
    }
  }
  return slots;
}

function mutateSlot(slot: Slot, rng: FuzzRng, hints: JsonHints, raws: string[]): string {
  const parent = slot.parent as Record<string | number, Json>;
  const path = String(slot.key);
  const roll = rng.int(100);
  if (roll < 10 && !Array.isArray(parent) && slot.key !== 'root') {
    delete parent[slot.key];
    return `delete ${path}`;
  }
  if (roll < 18) {
    const target = parent[slot.key];
    if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
      const key = rng.pick(['__proto__', 'constructor', 'unknown_field', '', 'toString', path]);
      // defineProperty: an assignment to "__proto__" would set the prototype, not add the key.
      Object.defineProperty(target, key, { value: hostileValue(rng, hints, raws).value, enumerable: true, writable: true, configurable: true });
      return `add key ${JSON.stringify(key)} to ${path}`;
    }
  }
  const v = hostileValue(rng, hints, raws);
  parent[slot.key] = v.value;
  return `${path} = ${v.how}`;
}

/** A value chosen to break a reader: wrong type, bad number, deep or huge. */
function hostileValue(rng: FuzzRng, hints: JsonHints, raws: string[]): { value: Json; how: string } {
  const raw = (text: string, how: string) => {
    raws.push(text);
    return { value: `${RAW_MARK}${raws.length - 1}`, how };
  };
  switch (rng.int(9)) {
    case 0:
    case 1: {
      const n = rng.pick([-1, 0, 1, -0.5, 1.5, 2 ** 31, 2 ** 32, 2 ** 53 + 2, -(2 ** 53), 1e308, -1e308, 5e-324, 64, 65, 1024, 1e9]);
      return { value: n, how: String(n) };
    }
    case 2:
      return rng.chance(0.5) ? raw('1e400', '1e400') : raw(rng.pick(['-1e400', '-0', '1E+999']), 'overflowing number');
    case 3: {
      const v = rng.pick<Json>([null, true, false, '', '12', 'NaN', [], {}, [1, 2], { a: 1 }]);
      return { value: v, how: JSON.stringify(v) };
    }
    case 4: {
      const strings = hints.strings ?? [];
      const s = strings.length > 0 && rng.chance(0.7) ? rng.pick(strings) : rng.pick(['\u0000', '../../etc/passwd', '/dev/zero', 'é'.repeat(40), '\ud800']);
      return { value: s, how: JSON.stringify(s).slice(0, 40) };
    }
    case 5:
    case 6: {
      const depth = rng.pick([1000, 5000, 20_000, 100_000]);
      return rng.chance(0.6) ? raw('['.repeat(depth) + ']'.repeat(depth), `${depth}-deep array`) : raw('{"a":'.repeat(depth) + '1' + '}'.repeat(depth), `${depth}-deep object`);
    }
    case 7: {
      const len = rng.pick([10_000, 1_000_000]);
      return { value: 'x'.repeat(len), how: `${len}-char string` };
    }
    default: {
      const len = rng.pick([1000, 200_000]);
      return raw(`[${new Array(len).fill(rng.pick(['0', '1e400', '"a"', 'null', '[]'])).join(',')}]`, `${len}-element array`);
    }
  }
}

/** Text that is no longer JSON: cut, a character changed, or trailing garbage. */
function breakText(text: string, rng: FuzzRng): { text: string; how: string } {
  const at = rng.int(text.length + 1);
  switch (rng.int(3)) {
    case 0:
      return { text: text.slice(0, at), how: `text cut at ${at}` };
    case 1:
      return { text: text.slice(0, at) + rng.pick(['"', '{', ']', ',', '\\', '\u0000', '\ufffd']) + text.slice(at + 1), how: `text char @${at}` };
    default:
      return { text: text + rng.pick(['}', ' x', '\n{}', '\u0000']), how: 'trailing garbage' };
  }
}
