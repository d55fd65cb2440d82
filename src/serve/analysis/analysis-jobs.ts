/**
 * The model runs the server does besides generation — building a feature index, explaining a text,
 * contrasting two sets of texts, a style vector from texts — as messages to the analysis thread
 * (analysis-worker.ts) and what each answers. SAEs are named by their folder (a shipped SAE,
 * resolved by the route before a job is made).
 */
import type { BuildSummary } from '../../sae/feature-index/build-feature-index.js';
import type { Contrast } from '../../sae/feature-index/contrast-texts.js';
import type { TextExplanation } from '../../sae/feature-index/explain-text.js';
import type { SteeringVectorSet } from '../../steer/steering-vector-set.js';

export type AnalysisJob =
  | { kind: 'build-index'; saeDir: string; db: string; tokens: number }
  | { kind: 'explain'; saeDir: string; text: string; perToken: number; top: number; features?: number[] }
  | { kind: 'contrast'; saeDir: string; a: string[]; b: string[]; top: number }
  | { kind: 'style'; texts: string[] };

export interface AnalysisResults {
  'build-index': BuildSummary;
  explain: TextExplanation;
  contrast: Contrast;
  style: SteeringVectorSet;
}

export type AnalysisKind = AnalysisJob['kind'];
