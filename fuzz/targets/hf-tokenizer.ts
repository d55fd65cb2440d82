/**
 * HF tokenizer.json (+ tokenizer_config.json) folders: a byte-level BPE (GPT-2 style) and a
 * sentencepiece-style BPE with byte fallback and Llama-2's decoder, each with a chat template,
 * written here; one of the two files mutated as JSON, then loaded as `--tokenizer FOLDER` does and
 * used: encode, decode, every piece, and the chat template.
 */
import { loadTokenizer } from '../../src/model/load-tokenizer.js';
import type { FuzzTarget } from '../fuzz-target.js';
import { mutateJson } from '../json-mutators.js';
import { writeFile } from './seed-files.js';

const TEXT = 'Once upon a time, a 🐱 said "naïve" — café!\n\t<|im_start|><0x41>\u0000 end';
const TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
const STRINGS = ['BPE', 'WordPiece', 'Unigram', 'ByteLevel', 'Metaspace', 'Sequence', 'Replace', 'Strip', 'ByteFallback', 'Fuse', '▁', ' ', '<s>', '</s>', '<|im_end|>', '{% if %}', "{{ raise_exception('x') }}"];

/** Printable ASCII pieces and their pairwise merges, so that encoding exercises merging. */
function byteLevelSeed(): unknown {
  const vocab: Record<string, number> = { '<|endoftext|>': 0, '<|im_start|>': 1, '<|im_end|>': 2 };
  for (let b = 0x21; b <= 0x7e; b++) vocab[String.fromCharCode(b)] = Object.keys(vocab).length;
  for (const extra of ['Ġ', 'Ċ', 'ĉ', 'Ġt', 'he', 'Ġthe', 'on', 'ce']) vocab[extra] = Object.keys(vocab).length;
  return {
    version: '1.0',
    added_tokens: [0, 1, 2].map((id) => ({ id, content: Object.keys(vocab)[id], special: true, lstrip: false, rstrip: false, normalized: false, single_word: false })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true },
    model: { type: 'BPE', vocab, merges: ['Ġ t', 'h e', 'Ġt he', 'o n', 'c e'] },
  };
}

function sentencepieceSeed(): unknown {
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = Object.keys(vocab).length;
  for (const p of ['▁', 'O', 'n', 'c', 'e', '▁O', 'nc', 'nce', '▁Once', 'u', 'p', 'o', '▁u', 'pon', '▁upon']) vocab[p] = Object.keys(vocab).length;
  return {
    version: '1.0',
    added_tokens: [0, 1, 2].map((id) => ({ id, content: Object.keys(vocab)[id], special: true, lstrip: false, rstrip: false, normalized: false, single_word: false })),
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    pre_tokenizer: null,
    post_processor: null,
    decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
    model: { type: 'BPE', unk_token: '<unk>', fuse_unk: true, byte_fallback: true, vocab, merges: [['▁', 'O'], ['n', 'c'], ['nc', 'e'], ['▁O', 'nce'], ['▁', 'u'], ['p', 'o'], ['po', 'n'], ['▁u', 'pon']] },
  };
}

export const hfTokenizerTarget: FuzzTarget = {
  name: 'hf-tokenizer',
  prepare() {
    const seeds = [
      { json: JSON.stringify(byteLevelSeed()), config: JSON.stringify({ bos_token: '<|endoftext|>', eos_token: '<|im_end|>', chat_template: TEMPLATE }) },
      { json: JSON.stringify(sentencepieceSeed()), config: JSON.stringify({ bos_token: { content: '<s>' }, eos_token: '</s>', chat_template: [{ name: 'default', template: TEMPLATE }] }) },
    ];
    return {
      write(rng, dir) {
        const seed = rng.pick(seeds);
        const mutateConfig = rng.chance(0.3);
        const m = mutateJson(mutateConfig ? seed.config : seed.json, rng, { strings: STRINGS });
        writeFile(dir, 'tokenizer.json', mutateConfig ? seed.json : m.text);
        writeFile(dir, 'tokenizer_config.json', mutateConfig ? m.text : seed.config);
        return `${mutateConfig ? 'tokenizer_config.json' : 'tokenizer.json'}: ${m.how}`;
      },
      writeSeed(dir) {
        writeFile(dir, 'tokenizer.json', seeds[1].json);
        writeFile(dir, 'tokenizer_config.json', seeds[1].config);
      },
      read(dir) {
        const tok = loadTokenizer(dir);
        const ids = tok.encode(TEXT, { bos: true, eos: true });
        tok.decode(ids);
        for (let id = 0; id < tok.vocabSize; id++) tok.piece(id);
        tok.chatTemplate?.render([{ role: 'user', content: TEXT }]);
      },
    };
  },
};
