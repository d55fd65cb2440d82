/**
 * A request's `steering` field: validated by parseSteeringSpec (the engine's one parser), confined
 * to what a client may name, and compiled once for the request. A spec may name SAE folders and
 * vector files by path, which is right on the command line but not from the network: a request
 * must not make the server open files of the client's choosing. So a request names only shipped
 * SAEs (a hook name or layer number), shipped presets, or inline numbers; steering is data only.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SteeringError } from '../errors.js';
import type { CompiledSteering } from '../steer/compile-steering.js';
import { compileIfAny } from '../steer/compile-steering.js';
import { presetByName, PRESETS } from '../steer/presets.js';
import type { SteeringContext } from '../steer/steering-context.js';
import { shippedSaeDir } from '../steer/steering-context.js';
import type { SteeringSpec } from '../steer/steering-spec.js';
import { parseSteeringSpec } from '../steer/steering-spec.js';
import { describeValue } from '../util/describe-value.js';

export function compileRequestSteering(raw: unknown, ctx: SteeringContext): CompiledSteering | undefined {
  if (raw === undefined || raw === null) return undefined;
  const spec = parseSteeringSpec(raw, 'steering');
  confine(spec);
  return compileIfAny(spec, ctx);
}

function confine(spec: SteeringSpec): void {
  const sources = [...spec.features.map((f, i) => [f.source, `steering.features[${i}].source`]), ...spec.guide.map((g, i) => [g.source, `steering.guide[${i}].source`])];
  for (const [source, field] of sources) {
    if (/^\d+$/.test(source)) continue;
    if (!/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/.test(source) || !existsSync(join(shippedSaeDir(source), 'cfg.json'))) {
      throw new SteeringError(`${field} ${describeValue(source)} is not a shipped SAE: a request names an SAE by its hook (e.g. blocks.2.hook_resid_post) or layer number, not by a path on the server`);
    }
  }
  spec.vectors.forEach((v, i) => {
    if (typeof v.vector === 'string' && !presetByName(v.vector)) {
      throw new SteeringError(`steering.vectors[${i}].vector ${describeValue(v.vector)} is not a preset (${PRESETS.map((p) => p.name).join(', ')}); a request gives a preset name or the numbers themselves, not a file on the server`);
    }
  });
}
