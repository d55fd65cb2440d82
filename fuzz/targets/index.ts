/** Every library-level fuzz target: one per file format tinymorph reads. */
import { UsageError } from '../../src/errors.js';
import type { FuzzTarget } from '../fuzz-target.js';
import { activationCacheTarget } from './activation-cache.js';
import { controlVectorTarget } from './control-vector-gguf.js';
import { dictionaryLearningTarget } from './dictionary-learning.js';
import { featureIndexTarget } from './feature-index.js';
import { gemmaScopeTarget } from './gemma-scope-npz.js';
import { ggufLlamaTarget } from './gguf-llama-model.js';
import { hfLlamaTarget } from './hf-llama-folder.js';
import { hfTokenizerTarget } from './hf-tokenizer.js';
import { llama2cTarget } from './llama2c-model.js';
import { noteCardsTarget } from './note-cards.js';
import { saelensTarget } from './saelens.js';
import { safetensorsTarget } from './safetensors.js';
import { sparsifyTarget } from './sparsify.js';
import { steeringSpecTarget } from './steering-spec.js';
import { steeringVectorsTarget } from './steering-vectors.js';
import { tokenizerTarget } from './tokenizer.js';

export const TARGETS: readonly FuzzTarget[] = [
  llama2cTarget('llama2c-v0'),
  llama2cTarget('llama2c-v1'),
  llama2cTarget('llama2c-v2'),
  hfLlamaTarget,
  ggufLlamaTarget,
  tokenizerTarget,
  hfTokenizerTarget,
  safetensorsTarget,
  saelensTarget,
  gemmaScopeTarget,
  sparsifyTarget,
  dictionaryLearningTarget,
  controlVectorTarget,
  steeringVectorsTarget,
  steeringSpecTarget,
  activationCacheTarget,
  featureIndexTarget,
  noteCardsTarget,
];

export function targetByName(name: string): FuzzTarget {
  const t = TARGETS.find((x) => x.name === name);
  if (!t) throw new UsageError(`unknown fuzz format "${name}" (known: ${TARGETS.map((x) => x.name).join(', ')})`);
  return t;
}
