/**
 * The one way other panels change the vault's steering: `steerWith(feature)` (the feature browser's
 * "steer with this", a highlighted token's feature) adds the feature at a moderate strength, keeps its
 * label and saves it (the visible suggestion re-runs with it). The page (main.ts) connects it to the
 * settings once at start.
 */
import type { Settings } from '../../vault/vault-api.js';
import { featureEntries, featureKey, withFeature } from './steering-spec-edit.js';

export interface SteerFeature {
  source: string;
  index: number;
  label: string;
}

/**
 * Where a feature added from elsewhere starts: strong enough that the embedded model's text visibly
 * changes for a typical feature (its largest activations are 1–4; `tinymorph steer` at +4 rewrites
 * a sentence), mild enough to stay readable; the writer then tunes it with the slider.
 */
export const DEFAULT_FEATURE_STRENGTH = 4;

export interface SteeringHost {
  settings(): Settings;
  /** Apply and save the settings; the visible suggestion re-runs with the new steering. */
  change(settings: Settings): Promise<void>;
}

let host: SteeringHost | null = null;

export function connectSteering(h: SteeringHost): void {
  host = h;
}

const isSteered = (s: Settings, feature: SteerFeature): boolean => featureEntries(s.steering.spec).some((f) => f.source === feature.source && f.index === feature.index);

/** The settings with `feature` steered at `strength` and its label kept; a feature steered already keeps the writer's strength and method. */
export function settingsWithFeature(s: Settings, feature: SteerFeature, strength = DEFAULT_FEATURE_STRENGTH): Settings {
  const steered = isSteered(s, feature);
  const spec = steered ? s.steering.spec : withFeature(s.steering.spec, { source: feature.source, index: feature.index, strength });
  return { ...s, steering: { spec, labels: { ...s.steering.labels, [featureKey(feature.source, feature.index)]: feature.label } } };
}

/**
 * Add `feature` to the vault's steering at the default strength; resolves, once saved, to false when
 * it was steered already (its strength and method are then left as the writer set them).
 */
export async function steerWith(feature: SteerFeature): Promise<boolean> {
  if (!host) throw new Error('steerWith called before the page connected the steering (main.ts)');
  const s = host.settings();
  const added = !isSteered(s, feature);
  await host.change(settingsWithFeature(s, feature));
  return added;
}
