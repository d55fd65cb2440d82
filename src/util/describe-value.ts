/**
 * A value, as an error message quotes it: compact JSON, cut to at most `max` characters (ending
 * in `…`), and truthful where JSON.stringify is not — Infinity, -Infinity, NaN, -0 and undefined
 * print as themselves, not as null or nothing. Values come from files and requests, so they can be
 * nested 100,000 deep or hold a megabyte string: the walk keeps its own stack (no recursion) and
 * stops once `max` characters are written, so its cost is bounded by `max`, not by the value.
 */
export const DESCRIBE_MAX_CHARS = 80;

/** An array or object being written: its entries (keys for an object) and the next one to write. */
interface Open {
  value: unknown[] | Record<string, unknown>;
  keys: string[] | undefined;
  next: number;
}

export function describeValue(value: unknown, max = DESCRIBE_MAX_CHARS): string {
  let out = '';
  const open: Open[] = [];
  let pending: { value: unknown } | undefined = { value };
  while (out.length <= max) {
    if (pending) {
      const v = pending.value;
      pending = undefined;
      if (Array.isArray(v)) {
        out += '[';
        open.push({ value: v, keys: undefined, next: 0 });
      } else if (typeof v === 'object' && v !== null) {
        out += '{';
        const o = v as Record<string, unknown>;
        open.push({ value: o, keys: Object.keys(o), next: 0 });
      } else {
        out += primitive(v, max);
      }
      continue;
    }
    const top = open.at(-1);
    if (!top) break;
    const count = top.keys ? top.keys.length : (top.value as unknown[]).length;
    if (top.next === count) {
      out += top.keys ? '}' : ']';
      open.pop();
      continue;
    }
    if (top.next > 0) out += ',';
    if (top.keys) {
      const key = top.keys[top.next];
      out += `${primitive(key, max)}:`;
      pending = { value: (top.value as Record<string, unknown>)[key] };
    } else {
      pending = { value: (top.value as unknown[])[top.next] };
    }
    top.next++;
  }
  return out.length > max ? `${cut(out, max - 1)}…` : out;
}

function primitive(v: unknown, max: number): string {
  if (typeof v === 'string') return JSON.stringify(v.length > max ? v.slice(0, max) : v);
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'bigint') return `${v}n`;
  return String(v);
}

/** The first `n` characters of `s`, one fewer if the cut would split a UTF-16 surrogate pair. */
function cut(s: string, n: number): string {
  const code = s.charCodeAt(n - 1);
  return s.slice(0, code >= 0xd800 && code <= 0xdbff ? n - 1 : n);
}

/** Names from a file, for "it has …": the first `maxItems` quoted by describeValue, then how many more. */
export function describeList(items: readonly unknown[], maxItems = 8): string {
  const shown = items.slice(0, maxItems).map((item) => describeValue(item, 40));
  return items.length > maxItems ? `${shown.join(', ')}, … (${items.length} in all)` : shown.join(', ');
}
