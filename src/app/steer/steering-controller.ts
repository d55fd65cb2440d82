/**
 * One way into the vault's steering from anywhere on the page ("steer with this" in the feature
 * browser): the spec is changed with the pure edits of steering-spec-edit.ts, the feature's label
 * kept beside it (Settings.steering.labels, by "source#index"), and the result saved by the host
 * main.ts registers, as its other settings changes are.
 */
import type { SteeringPanel } from '../../vault/vault-api.js';
import { withFeature } from './steering-spec-edit.js';

export interface SteeringHost {
  steering(): SteeringPanel;
  save(steering: SteeringPanel): Promise<void>;
  announce(message: string): void;
}

/** The strength "steer with this" adds a feature at: enough to see in a suggestion, little enough to stay fluent. */
export const STEER_WITH_STRENGTH = 4;

let host: SteeringHost | null = null;

export function registerSteeringHost(h: SteeringHost): void {
  host = h;
}

export async function steerWith(f: { source: string; index: number; label: string }): Promise<void> {
  if (!host) throw new Error('steerWith before main.ts registered the steering host');
  const { spec, labels } = host.steering();
  await host.save({ spec: withFeature(spec, { source: f.source, index: f.index, strength: STEER_WITH_STRENGTH }), labels: { ...labels, [`${f.source}#${f.index}`]: f.label } });
  host.announce(`Steering with feature ${f.index}${f.label ? ` (${f.label})` : ''} at strength ${STEER_WITH_STRENGTH}.`);
}
