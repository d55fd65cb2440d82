/**
 * The model runs the server does besides generation — building a feature index, explaining a text,
 * contrasting two sets of texts, a style vector from texts (with its measured effect), the feature
 * profiles of notes (related notes), an SAE's feature means (what guidance and MEAN_ABLATE need,
 * ~1.5 s on first use) — as messages to the analysis thread (analysis-worker.ts) and what each
 * answers; a job may report progress on the way. SAEs are named by their folder (a shipped SAE,
 * resolved by the route before a job is made).
 */
import type { BuildSummary } from '../../sae/feature-index/build-feature-index.js';
import type { Contrast } from '../../sae/feature-index/contrast-texts.js';
import type { TextExplanation } from '../../sae/feature-index/explain-text.js';
import type { FeatureMeans } from '../../sae/feature-means.js';
import type { SteeringVectorSet } from '../../steer/steering-vector-set.js';
import type { StyleEffect } from '../../steer/vectors/style-effect.js';
import type { FeatureProfile } from '../../sae/feature-index/feature-profile.js';

export type AnalysisJob =
  | { kind: 'build-index'; saeDir: string; db: string; tokens: number }
  | { kind: 'explain'; saeDir: string; text: string; perToken: number; top: number; features?: number[] }
  | { kind: 'contrast'; saeDir: string; a: string[]; b: string[]; top: number }
  | { kind: 'style'; texts: string[]; strengths: number[] }
  | { kind: 'profile'; saeDir: string; texts: string[]; top: number }
  | { kind: 'feature-means'; saeDir: string };

export interface AnalysisResults {
  'build-index': BuildSummary;
  explain: TextExplanation;
  contrast: Contrast;
  /** The vector, and its measured effect on the texts at the best of `strengths` (style-effect.ts). */
  style: { set: SteeringVectorSet; effect: StyleEffect };
  profile: FeatureProfile[];
  'feature-means': FeatureMeans;
}

/** How far a running job has got, where it reports it (style vectors, feature profiles). */
export interface AnalysisProgress {
  phase: string;
  done: number;
  total: number;
}

export type AnalysisKind = AnalysisJob['kind'];
