import { randomInt } from 'node:crypto';
import type { Command } from 'commander';
import Table from 'cli-table3';
import { UsageError } from '../../errors.js';
import { generateSteered } from '../../steer/generate-steered.js';
import { SteeringContext } from '../../steer/steering-context.js';
import { presetByName, PRESETS } from '../../steer/presets.js';
import type { SpecFieldNamer } from '../../steer/steering-spec.js';
import { parseSteeringSpec, SAE_SPACE_METHODS, STEER_METHODS } from '../../steer/steering-spec.js';
import { describeValue } from '../../util/describe-value.js';
import { parseJson } from '../../util/parse-json.js';
import type { FieldPath } from '../../util/validate-json.js';
import { formatFieldPath, joinFieldPath } from '../../util/validate-json.js';
import { READ_LIMITS, readTextBounded } from '../../util/bounded-read.js';
import type { ModelOptions } from '../options.js';
import { addModelOptions, collect, loadFromOptions, parseNumber } from '../options.js';
import type { SamplingOptions } from '../sampling-options.js';
import { addSamplingOptions, samplingFromOptions } from '../sampling-options.js';
import { textFromArgOrFile } from '../text-input.js';

interface SteerOptions extends ModelOptions, SamplingOptions {
  feature: string[];
  vector: string[];
  preset: string[];
  guide: string[];
  method?: string;
  multiplier?: number;
  normalize?: boolean;
  scope?: string;
  spec?: string;
  promptFile?: string;
  json?: boolean;
}

const METHOD_ALIASES: Record<string, string> = {
  add: 'SIMPLE_ADDITIVE',
  orthogonal: 'ORTHOGONAL_DECOMP',
  cap: 'PROJECTION_CAP',
  clamp: 'CLAMP',
  multiply: 'MULTIPLY',
  ablate: 'ABLATE',
  'mean-ablate': 'MEAN_ABLATE',
};

/** `tinymorph steer`: the same prompt and seed, unsteered and steered, in one batch, printed side by side. */
export function registerSteer(program: Command): void {
  addModelOptions(
    addSamplingOptions(
      program
        .command('steer')
        .description('generate with and without steering (same seed, one batch) and print DEFAULT and STEERED side by side')
        .argument('[prompt]', 'text to continue')
        .option('--prompt-file <file>', 'read the prompt from a file ("-": standard input; one trailing newline dropped)')
        .option('--feature <source:index:strength[:method]>', 'SAE feature edit, e.g. blocks.2.hook_resid_post:248:+4 or 2:248:0:ablate (repeatable)', collect, [])
        .option('--vector <name[:strength]>', 'steering vector: a preset name or a vector file (.safetensors), strength default 1 (repeatable)', collect, [])
        .option('--preset <name[:strength]>', `a shipped preset at its tuned strength unless one is given: ${PRESETS.map((p) => p.name).join(', ')} (repeatable)`, collect, [])
        .option('--guide <source:index:strength>', 'SAE-guided decoding toward (+) or away from (−) a feature\'s output tokens (repeatable)', collect, [])
        .option('--method <method>', `steer_method for additions: ${Object.keys(METHOD_ALIASES).slice(0, 3).join(', ')} or ${STEER_METHODS.join(', ')}`)
        .option('--multiplier <x>', 'strength_multiplier applied to every strength', parseNumber)
        .option('--normalize', 'normalize_steering: keep each steered activation at its original norm')
        .option('--scope <scope>', 'all | prompt | generated | START-END (token positions) | after:TEXT')
        .option('--spec <file.json>', 'a steering request in JSON (Neuronpedia field names); the flags add to it'),
      80,
    ),
  )
    .option('--json', 'print one JSON object with both texts and the spec')
    .action((arg: string | undefined, o: SteerOptions) => {
      const prompt = textFromArgOrFile(arg, o.promptFile, '--prompt-file', 'prompt');
      const { request, fieldName } = buildRequest(o);
      const spec = parseSteeringSpec(request, fieldName);
      const { model, tokenizer } = loadFromOptions(o);
      const ctx = new SteeringContext(model, tokenizer);
      const seed = o.seed ?? randomInt(2 ** 31);
      const base = { prompt, maxTokens: o.maxTokens, sampling: samplingFromOptions(o), seed, stop: o.stop };
      const [plain, steered] = generateSteered(ctx, [base, { ...base, steering: spec }]);
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ prompt, seed, default: plain.text, steered: steered.text, steering: spec })}\n`);
        return;
      }
      const width = Math.max(30, Math.floor(((process.stdout.columns ?? 120) - 7) / 2));
      const table = new Table({ head: ['DEFAULT', 'STEERED'], colWidths: [width, width], wordWrap: true, wrapOnWordBoundary: true, style: { head: [], border: [] } });
      table.push([prompt + plain.text, prompt + steered.text]);
      process.stdout.write(`${table.toString()}\nseed ${seed}\n`);
    });
}

/**
 * The flags as a steering request (merged into --spec when given), and how errors name its fields:
 * by the flag that set them (`--feature "2:5000:1": index`), else by their place in the spec file
 * (`my-spec.json: features[0].strength`); the request's rows and merged lists are never named.
 */
function buildRequest(o: SteerOptions): { request: Record<string, unknown>; fieldName: SpecFieldNamer } {
  const req: Record<string, unknown> = o.spec ? readSpecFile(o.spec) : {};
  /** "features.3" or "scope" → the flag that set it. */
  const flags = new Map<string, string>();
  const extend = <T>(key: string, items: T[], flag: string, made: (item: T) => unknown): void => {
    // A spec file's list that is not a list is left for parseSteeringSpec to report.
    if (items.length === 0 || (req[key] !== undefined && !Array.isArray(req[key]))) return;
    const list = (req[key] ?? []) as unknown[];
    for (const item of items) flags.set(`${key}.${list.push(made(item)) - 1}`, `${flag} ${describeValue(item)}`);
    req[key] = list;
  };
  extend('features', o.feature, '--feature', (f) => parseFeatureFlag(f, '--feature'));
  extend('vectors', o.vector, '--vector', (v) => parseVectorFlag(v, '--vector'));
  extend('vectors', o.preset, '--preset', parsePresetFlag);
  extend('guide', o.guide, '--guide', (g) => parseFeatureFlag(g, '--guide'));
  const set = (key: string, value: unknown, flag: string): void => {
    req[key] = value;
    flags.set(key, flag);
  };
  if (o.method !== undefined) set('steer_method', methodName(o.method, '--method'), '--method');
  if (o.multiplier !== undefined) set('strength_multiplier', o.multiplier, '--multiplier');
  if (o.normalize) set('normalize_steering', true, '--normalize');
  if (o.scope !== undefined) set('scope', parseScopeFlag(o.scope), '--scope');
  const fieldName = (path: FieldPath): string => {
    const element = flags.get(`${String(path[0])}.${String(path[1])}`);
    if (element !== undefined) return path.length > 2 ? `${element}: ${formatFieldPath(path.slice(2))}` : element;
    const top = flags.get(String(path[0]));
    if (top !== undefined) return path.length > 1 ? `${top}: ${formatFieldPath(path.slice(1))}` : top;
    return o.spec ? (path.length > 0 ? `${o.spec}: ${formatFieldPath(path)}` : o.spec) : joinFieldPath('steering', path);
  };
  return { request: req, fieldName };
}

function readSpecFile(path: string): Record<string, unknown> {
  const text = readTextBounded(path, READ_LIMITS.spec, (problem) => new UsageError(`--spec ${path}: ${problem}`));
  const fail = (problem: string) => new UsageError(`--spec ${path}: not a steering request (it ${problem})`);
  const raw = parseJson(text, READ_LIMITS.spec.maxBytes, fail);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw fail(`is ${describeValue(raw)}, not a JSON object`);
  return raw as Record<string, unknown>;
}

/** `source:index:strength[:method]`; the source may itself contain no colon (hook names and layer numbers do not). */
function parseFeatureFlag(flag: string, name: string): Record<string, unknown> {
  const parts = flag.split(':');
  if (parts.length < 3 || parts.length > 4) throw new UsageError(`${name} ${describeValue(flag)}: expected source:index:strength[:method], e.g. blocks.2.hook_resid_post:248:+4`);
  const [source, index, strength, method] = parts;
  const out: Record<string, unknown> = { source, index: Number(index), strength: Number(strength) };
  if (!/^\d+$/.test(index) || !Number.isFinite(out.strength as number)) throw new UsageError(`${name} ${describeValue(flag)}: index must be an integer and strength a number`);
  if (method !== undefined) out.method = methodName(method, name);
  return out;
}

function parseVectorFlag(flag: string, name: string, defaultStrength = 1): { vector: string; strength: number } {
  const m = /^(.*?)(?::([+-]?[\d.]+(?:e[+-]?\d+)?))?$/i.exec(flag) as RegExpExecArray;
  const strength = m[2] === undefined ? defaultStrength : Number(m[2]);
  if (m[1] === '' || !Number.isFinite(strength)) throw new UsageError(`${name} ${describeValue(flag)}: expected a preset name or file, optionally :strength`);
  return { vector: m[1], strength };
}

function parsePresetFlag(flag: string): { vector: string; strength: number } {
  const name = flag.replace(/:[^:]*$/, '');
  const preset = presetByName(name) ?? presetByName(flag);
  if (!preset) throw new UsageError(`--preset ${describeValue(flag)}: no such preset (available: ${PRESETS.map((p) => p.name).join(', ')})`);
  return parseVectorFlag(flag, '--preset', preset.strength);
}

function parseScopeFlag(flag: string): unknown {
  if (flag.startsWith('after:')) return { after: flag.slice('after:'.length) };
  const range = /^(\d+)-(\d+)$/.exec(flag);
  return range ? { start: Number(range[1]), end: Number(range[2]) } : flag;
}

function methodName(v: string, flag: string): string {
  const name = METHOD_ALIASES[v.toLowerCase()] ?? v.toUpperCase();
  if (![...STEER_METHODS, ...SAE_SPACE_METHODS].includes(name as never)) {
    throw new UsageError(`${flag}: unknown method ${describeValue(v)} (use ${Object.keys(METHOD_ALIASES).join(', ')})`);
  }
  return name;
}
