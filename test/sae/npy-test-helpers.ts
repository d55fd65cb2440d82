/** .npy bytes written by hand as numpy.lib.format does: magic, version, header length, dict literal padded to 64 bytes. */
export function npyBytes(header: string, data: Uint8Array, version = 1): Uint8Array {
  const prefix = version === 1 ? 10 : 12;
  let h = header;
  while ((prefix + h.length + 1) % 64 !== 0) h += ' ';
  h += '\n';
  const out = new Uint8Array(prefix + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, h.length, true);
  else view.setUint32(8, h.length, true);
  out.set(new TextEncoder().encode(h), prefix);
  out.set(data, prefix + h.length);
  return out;
}

export function f32Npy(shape: number[], values: Float32Array, version = 1): Uint8Array {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  return npyBytes(`{'descr': '<f4', 'fortran_order': False, 'shape': ${dims}, }`, new Uint8Array(values.buffer.slice(0)), version);
}
