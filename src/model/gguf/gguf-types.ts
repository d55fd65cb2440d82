/**
 * GGUF (ggml's file format, docs/gguf.md in ggml-org/ggml) version 3, little-endian:
 *   "GGUF" u32 version, u64 tensor_count, u64 metadata_kv_count,
 *   metadata: (string key, u32 value_type, value) × kv_count,
 *   tensor infos: (string name, u32 n_dims, u64 dims × n_dims, u32 ggml_type, u64 offset) × tensor_count,
 *   padding to `general.alignment` (default 32), then the data section; each tensor's offset is
 *   relative to the data section's start and a multiple of the alignment.
 * Strings are u64 byte length + UTF-8 bytes, no terminator; an array is u32 item type, u64 count, items.
 */

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;
export const GGUF_ALIGNMENT_KEY = 'general.alignment';

/** Metadata value types, numbered as gguf_type in ggml's gguf.h. */
export const GGUF_VALUE_TYPES = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'bool', 'string', 'array', 'uint64', 'int64', 'float64'] as const;
export type GgufValueType = (typeof GGUF_VALUE_TYPES)[number];
export type GgufNumberType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';
export type GgufBigIntType = 'uint64' | 'int64';

/** A metadata value with its GGUF type, so that a file read and written again keeps its types. */
export type GgufValue =
  | { type: GgufNumberType; value: number }
  | { type: GgufBigIntType; value: bigint }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; itemType: GgufValueType; items: GgufValue[] };

/** Bytes of one fixed-size value (strings and arrays are variable). */
export const GGUF_SCALAR_BYTES: Partial<Record<GgufValueType, number>> = {
  uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4, bool: 1, uint64: 8, int64: 8, float64: 8,
};

/**
 * The tensor types read and written here, numbered as ggml_type in ggml.h. Q8_0 (ggml-common.h
 * block_q8_0) stores blocks of 32 values along ne[0]: an fp16 scale d, then 32 int8 q (w = q·d).
 */
export const GGML_TYPE_F32 = 0;
export const GGML_TYPE_F16 = 1;
export const GGML_TYPE_Q8_0 = 8;
export const GGML_TYPE_BF16 = 30;
export type GgmlType = 'F32' | 'F16' | 'Q8_0' | 'BF16';
export const GGML_TYPE_NAMES: Record<number, GgmlType> = { [GGML_TYPE_F32]: 'F32', [GGML_TYPE_F16]: 'F16', [GGML_TYPE_Q8_0]: 'Q8_0', [GGML_TYPE_BF16]: 'BF16' };
export const GGML_TYPE_IDS: Record<GgmlType, number> = { F32: GGML_TYPE_F32, F16: GGML_TYPE_F16, Q8_0: GGML_TYPE_Q8_0, BF16: GGML_TYPE_BF16 };
/** Values per block and bytes per block of each type. */
export const GGML_BLOCK: Record<GgmlType, { values: number; bytes: number }> = { F32: { values: 1, bytes: 4 }, F16: { values: 1, bytes: 2 }, Q8_0: { values: 32, bytes: 34 }, BF16: { values: 1, bytes: 2 } };

/** ggml tensors have at most 4 dimensions (GGML_MAX_DIMS). */
export const GGML_MAX_DIMS = 4;
