import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelFileError } from '../../src/errors.js';
import { SafetensorsFile, serializeSafetensors, writeSafetensors } from '../../src/model/safetensors.js';
import { packageRoot } from '../../src/util/package-root.js';

// packageRoot walks up from its own file to package.json, so this works from src/ (tsx) and dist/.
const FIXTURE = join(packageRoot(), 'test/fixtures/tiny-random-gpt2/model.safetensors');

/** File bytes laid out by the spec: u64 LE header length, the header text, the byte buffer. */
function fileBytes(header: string | Uint8Array, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const head = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(8 + head.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  out.set(data, 8 + head.length);
  return out;
}

function assertFileError(fn: () => unknown, label: string, ...parts: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ModelFileError, `expected a ModelFileError, got ${String(err)}`);
    assert.ok(err.message.startsWith(`${label}: `), err.message);
    for (const part of parts) assert.ok(err.message.includes(part), `"${part}" missing from: ${err.message}`);
    return true;
  });
}

function withTempDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'tinymorph-st-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('reads the tiny-random-gpt2 fixture made by numpy', () => {
  const file = SafetensorsFile.open(FIXTURE);
  const names = file.names();
  assert.equal(names.length, 64);
  const params = names.reduce((sum, n) => sum + file.info(n).shape.reduce((a, b) => a * b, 1), 0);
  assert.equal(params, 111_968);
  assert.deepEqual(file.metadata, { format: 'pt' });
  assert.deepEqual(file.info('transformer.wte.weight').shape, [1000, 32]);
  assert.deepEqual(file.info('transformer.wpe.weight').shape, [512, 32]);
  assert.equal(file.readF32Checked('transformer.h.0.attn.c_attn.weight', [32, 96]).length, 32 * 96);
  // Values decoded independently with Python's struct module.
  const wte = file.readF32('transformer.wte.weight');
  assert.deepEqual([...wte.subarray(0, 4)], [-0.020643139258027077, 0.01250049564987421, -0.02890360727906227, 0.012462417595088482]);
  assert.equal(file.readF32('transformer.h.4.mlp.c_proj.weight').at(-1), -0.051306404173374176);
  // The data starts 8-byte aligned, so F32 comes back as a view on the file bytes, not a copy.
  assert.equal(wte.buffer.byteLength, statSync(FIXTURE).size);

  const lnWeights = names.filter((n) => /\.ln_(1|2|f)\.weight$/.test(n));
  assert.equal(lnWeights.length, 11);
  for (const n of lnWeights) assert.ok(file.readF32(n).every((v) => v === 1), n);
  const biases = names.filter((n) => n.endsWith('.bias'));
  assert.equal(biases.length, 5 * 6 + 1);
  for (const n of biases) assert.ok(file.readF32(n).every((v) => v === 0), n);
});

test('reads hand-built bytes: F32, F16, BF16, F64, an unaligned F32 and an empty tensor', () => {
  // data_offsets are relative to the byte buffer; "u" starts at 21, not a multiple of 4.
  const header =
    '{"__metadata__":{"who":"hand"},' +
    '"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
    '"h":{"dtype":"F16","shape":[3,1],"data_offsets":[8,14]},' +
    '"b":{"dtype":"BF16","shape":[1],"data_offsets":[14,16]},' +
    '"d":{"dtype":"F64","shape":[1],"data_offsets":[16,24]},' +
    '"u":{"dtype":"F32","shape":[1],"data_offsets":[25,29]},' +
    '"e":{"dtype":"F32","shape":[0,4],"data_offsets":[29,29]},' +
    '"i":{"dtype":"I32","shape":[1],"data_offsets":[29,33]}}';
  const data = new Uint8Array(33);
  const view = new DataView(data.buffer);
  view.setFloat32(0, 1.5, true);
  view.setFloat32(4, -0.25, true);
  view.setUint16(8, 0x3c00, true); // 1
  view.setUint16(10, 0xc000, true); // -2
  view.setUint16(12, 0x7bff, true); // 65504
  view.setUint16(14, 0x4049, true); // 3.140625
  view.setFloat64(16, 0.1, true);
  view.setFloat32(25, 7.75, true);
  view.setInt32(29, 42, true);
  const bytes = fileBytes(header, data);
  // Also parse from a copy that starts at an odd offset of its ArrayBuffer.
  const shifted = new Uint8Array(bytes.length + 1);
  shifted.set(bytes, 1);
  for (const input of [bytes, shifted.subarray(1)]) {
    const file = SafetensorsFile.parse(input, 'hand.safetensors');
    assert.deepEqual(file.metadata, { who: 'hand' });
    assert.deepEqual(file.names(), ['a', 'h', 'b', 'd', 'u', 'e', 'i']);
    assert.deepEqual(file.info('h'), { name: 'h', dtype: 'F16', shape: [3, 1], begin: 8 + header.length + 8, end: 8 + header.length + 14 });
    assert.deepEqual([...file.readF32('a')], [1.5, -0.25]);
    assert.deepEqual([...file.readF32('h')], [1, -2, 65504]);
    assert.deepEqual([...file.readF32('b')], [3.140625]);
    assert.deepEqual([...file.readF32('d')], [Math.fround(0.1)]);
    assert.deepEqual([...file.readF32('u')], [7.75]);
    assert.equal(file.readF32('e').length, 0);
    assertFileError(() => file.readF32('i'), 'hand.safetensors', 'tensor "i"', 'dtype I32 cannot be read as float');
  }
});

test('unknown names and wrong shapes are ModelFileErrors with the values', () => {
  const file = SafetensorsFile.open(FIXTURE);
  assert.equal(file.has('transformer.wte.weight'), true);
  assert.equal(file.has('lm_head.weight'), false);
  assertFileError(() => file.info('lm_head.weight'), FIXTURE, 'no tensor "lm_head.weight"', 'it has 64', '"transformer.');
  assertFileError(
    () => file.readF32Checked('transformer.wte.weight', [32, 1000]),
    FIXTURE,
    'tensor "transformer.wte.weight" has shape [1000,32], expected [32,1000]',
  );
  assertFileError(() => SafetensorsFile.open(join(FIXTURE, '..', 'absent.safetensors')), join(FIXTURE, '..', 'absent.safetensors'), 'no such file');
});

test('writer output reads back for F32, F16 and BF16, with 8-byte aligned data', () => {
  const values = Float32Array.of(1, -2, 0.1, 65504, 1e6, 0);
  const parts = serializeSafetensors(
    {
      w: { shape: [2, 3], data: values },
      half: { dtype: 'F16', shape: [6], data: values },
      brain: { dtype: 'BF16', shape: [3, 2], data: values },
      odd: { dtype: 'F16', shape: [1], data: Float32Array.of(0.5) },
      after: { shape: [1], data: Float32Array.of(Math.PI) },
    },
    { format: 'pt' },
  );
  // Buffer.concat of a small total comes from Node's shared pool, at an arbitrary byteOffset.
  const bytes = Buffer.concat(parts);
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  assert.equal((8 + headerLength) % 8, 0);
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
  assert.deepEqual(Object.keys(header), ['__metadata__', 'w', 'half', 'brain', 'odd', 'after']);
  assert.deepEqual(header.half, { dtype: 'F16', shape: [6], data_offsets: [24, 36] });
  assert.deepEqual(header.after.data_offsets, [50, 54]);

  withTempDir((dir) => {
    const path = join(dir, 'out.safetensors');
    writeSafetensors(path, { only: { shape: [1], data: Float32Array.of(2) } });
    assert.deepEqual([...SafetensorsFile.open(path).readF32('only')], [2]);
    assert.deepEqual(SafetensorsFile.open(path).metadata, {});
    assert.ok(!readFileSync(path).includes('__metadata__'));
  });

  const file = SafetensorsFile.parse(bytes, 'written');
  assert.deepEqual(file.metadata, { format: 'pt' });
  assert.deepEqual([...file.readF32('w')], [...values]);
  // F16: 0.1 rounds to 0x2e66 = 0.0999755859375; 1e6 overflows to Inf.
  assert.deepEqual([...file.readF32('half')], [1, -2, 0.0999755859375, 65504, Infinity, 0]);
  // BF16: 0.1 = 0x3dcccccd rounds to 0x3dcd = 0.10009765625; 65504 to 0x4780 = 65536; 1e6 to 0x4974 = 999424.
  assert.deepEqual([...file.readF32('brain')], [1, -2, 0.10009765625, 65536, 999424, 0]);
  assert.deepEqual([...file.readF32('odd')], [0.5]);
  assert.deepEqual([...file.readF32('after')], [Math.fround(Math.PI)]);
});

test('writer rejects data that does not match the shape', () => {
  assert.throws(() => serializeSafetensors({ w: { shape: [2, 3], data: new Float32Array(5) } }), {
    name: 'ShapeError',
    message: 'tensor "w": shape [2,3] has 6 elements, data has 5',
  });
  assert.throws(() => serializeSafetensors({ w: { shape: [-1], data: new Float32Array(0) } }), { name: 'ShapeError' });
  assert.throws(() => serializeSafetensors({ __metadata__: { shape: [0], data: new Float32Array(0) } }), { name: 'UsageError' });
});

test('bad headers are ModelFileErrors naming the file and the problem', () => {
  const label = 'bad.safetensors';
  const parse = (bytes: Uint8Array) => () => SafetensorsFile.parse(bytes, label);
  const tensor = (entry: string, dataBytes = 16) => fileBytes(`{"t":${entry}}`, new Uint8Array(dataBytes));

  assertFileError(parse(new Uint8Array(5)), label, 'file is 5 bytes', 'too short');
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setBigUint64(0, 200_000_000n, true);
  assertFileError(parse(huge), label, 'header length 200000000 is over the limit of 100000000 bytes');
  const long = new Uint8Array(20);
  new DataView(long.buffer).setBigUint64(0, 1000n, true);
  assertFileError(parse(long), label, 'header length 1000 is larger than the 12 bytes after the length prefix');
  assertFileError(parse(fileBytes(Uint8Array.of(0x7b, 0xff, 0x7d))), label, 'not valid UTF-8');
  assertFileError(parse(fileBytes('{"t":')), label, 'header is not valid JSON');
  assertFileError(parse(fileBytes('[1,2]')), label, 'header must be a JSON object, got [1,2]');
  assertFileError(parse(tensor('[]')), label, 'tensor "t": entry must be an object');
  assertFileError(parse(tensor('{"dtype":"Q4_0","shape":[4],"data_offsets":[0,16]}')), label, 'tensor "t": unknown dtype "Q4_0"');
  assertFileError(parse(tensor('{"shape":[4],"data_offsets":[0,16]}')), label, 'unknown dtype undefined');
  for (const shape of ['[-4]', '[1.5]', '"4"', '[4,null]']) {
    assertFileError(parse(tensor(`{"dtype":"F32","shape":${shape},"data_offsets":[0,16]}`)), label, 'shape must be an array of non-negative integers', shape);
  }
  for (const offsets of ['[0]', '[0,16,16]', '["0",16]', '[-1,15]', 'null']) {
    assertFileError(parse(tensor(`{"dtype":"F32","shape":[4],"data_offsets":${offsets}}`)), label, 'data_offsets must be two non-negative integers', offsets);
  }
  assertFileError(parse(tensor('{"dtype":"F32","shape":[0],"data_offsets":[8,4]}')), label, 'data_offsets [8, 4] has begin > end');
  // A 55-byte header, and only 8 of the 16 data bytes.
  assertFileError(
    parse(tensor('{"dtype":"F32","shape":[4],"data_offsets":[0,16]}', 8)),
    label,
    'truncated: tensor "t" ends at byte 16 of the data buffer, but only 8 bytes are present',
    'file is 71 bytes, expected at least 79',
  );
  assertFileError(
    parse(tensor('{"dtype":"F32","shape":[3],"data_offsets":[0,16]}')),
    label,
    'data_offsets [0, 16] span 16 bytes, but shape [3] of F32 needs 3 × 4 = 12',
  );
  assertFileError(
    parse(fileBytes('{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F16","shape":[2],"data_offsets":[6,10]}}', new Uint8Array(10))),
    label,
    'tensors overlap: data_offsets of "x" [0, 8] and "y" [6, 10]',
  );
  assertFileError(parse(fileBytes('{"__metadata__":{"format":"pt","n":3}}')), label, '__metadata__["n"] must be a string, got 3');
  assertFileError(parse(fileBytes('{"__metadata__":["pt"]}')), label, '__metadata__ must be an object');
});

test('a deeply nested or huge header value is one short error line (no stack overflow, no echo of the value)', () => {
  const label = 'deep.safetensors';
  for (const depth of [5_000, 100_000]) {
    for (const [open, close] of [['[', ']'], ['{"a":', '}']]) {
      const header = `{"t":{"dtype":"F32","shape":${open.repeat(depth)}1${close.repeat(depth)},"data_offsets":[0,4]}}`;
      assertFileError(() => SafetensorsFile.parse(fileBytes(header, new Uint8Array(4)), label), label, 'header nests deeper than 64 levels');
    }
  }
  const mb = 'x'.repeat(1 << 20);
  for (const header of [`{"t":{"dtype":"${mb}","shape":[1],"data_offsets":[0,4]}}`, `{"${mb}":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, `{"__metadata__":{"k":["${mb}"]}}`]) {
    assert.throws(
      () => SafetensorsFile.parse(fileBytes(header, new Uint8Array(4)), label),
      (e: unknown) => e instanceof ModelFileError && e.message.length < 300 && /xxxx…/.test(e.message) && !e.message.includes('\n'),
    );
  }
});
