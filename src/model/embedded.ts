import { assetPath } from '../util/package-root.js';

/**
 * The embedded default: Karpathy's stories260K (llama2.c, MIT) and its 512-token tokenizer, shipped in
 * assets/models so that every command works offline with no model argument.
 */
export const embeddedModelPath = (): string => assetPath('models', 'stories260K.bin');
export const embeddedTokenizerPath = (): string => assetPath('models', 'tok512.bin');
/** TinyStories text (CDLA-Sharing-1.0, see assets/data/LICENSE-TinyStories.md). */
export const validationTextPath = (): string => assetPath('data', 'tinystories_val.txt');
export const trainSampleTextPath = (): string => assetPath('data', 'tinystories_train_sample.txt');
