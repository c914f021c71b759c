// CRC32C (Castagnoli) and CRC64/NVME in plain TypeScript, table-driven, 8 bytes per step
// ("slicing-by-8", Intel's technique). Both are reflected CRCs with all-ones init and
// final xor, as S3 defines them:
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
// CRC32 (IEEE) needs no code here: node:zlib has it natively.

const CRC32C_POLY = 0x82f63b78; // reflected 0x1EDC6F41

/** 8 tables of 256 entries, back to back: T[k][b] = CRC of byte b followed by k zero bytes. */
const T32 = new Int32Array(8 * 256);
for (let b = 0; b < 256; b++) {
  let c = b;
  for (let j = 0; j < 8; j++) c = c & 1 ? (c >>> 1) ^ CRC32C_POLY : c >>> 1;
  T32[b] = c;
}
for (let k = 1; k < 8; k++) {
  for (let b = 0; b < 256; b++) {
    const prev = T32[(k - 1) * 256 + b]!;
    T32[k * 256 + b] = (prev >>> 8) ^ T32[prev & 0xff]!;
  }
}

/** Continues a CRC32C over `data`; start from 0 (the init/final xor are applied inside). */
export function crc32c(data: Uint8Array, crc = 0): number {
  let c = ~crc;
  let i = 0;
  const n = data.length;
  const end8 = n - (n & 7);
  const t = T32;
  while (i < end8) {
    const a = c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    c =
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + data[i + 4]!]! ^
      t[512 + data[i + 5]!]! ^
      t[256 + data[i + 6]!]! ^
      t[data[i + 7]!]!;
    i += 8;
  }
  while (i < n) c = (c >>> 8) ^ t[(c ^ data[i++]!) & 0xff]!;
  return ~c >>> 0;
}

// CRC64/NVME: reflected polynomial 0x9A6C9329AC4BC9B5. A 64-bit value is kept as two
// 32-bit halves (lo, hi); each table entry is stored as a (lo, hi) pair.
const P_LO = 0xac4bc9b5 | 0;
const P_HI = 0x9a6c9329 | 0;
const T64 = new Int32Array(8 * 256 * 2);
for (let b = 0; b < 256; b++) {
  let lo = b;
  let hi = 0;
  for (let j = 0; j < 8; j++) {
    const carry = lo & 1;
    lo = (lo >>> 1) | (hi << 31);
    hi = hi >>> 1;
    if (carry) {
      lo ^= P_LO;
      hi ^= P_HI;
    }
  }
  T64[b * 2] = lo;
  T64[b * 2 + 1] = hi;
}
for (let k = 1; k < 8; k++) {
  for (let b = 0; b < 256; b++) {
    const p = ((k - 1) * 256 + b) * 2;
    const lo = T64[p]!;
    const hi = T64[p + 1]!;
    const q = (lo & 0xff) * 2;
    // (crc >>> 8) ^ T[0][crc & 0xff]
    T64[(k * 256 + b) * 2] = ((lo >>> 8) | (hi << 24)) ^ T64[q]!;
    T64[(k * 256 + b) * 2 + 1] = (hi >>> 8) ^ T64[q + 1]!;
  }
}

/** A CRC64/NVME state: the running (already inverted) value as two halves. */
export interface Crc64State {
  lo: number;
  hi: number;
}

export function crc64nvmeInit(): Crc64State {
  return { lo: -1, hi: -1 };
}

export function crc64nvmeUpdate(state: Crc64State, data: Uint8Array): void {
  let lo = state.lo;
  let hi = state.hi;
  let i = 0;
  const n = data.length;
  const end8 = n - (n & 7);
  const t = T64;
  while (i < end8) {
    const a = lo ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    const b = hi ^ (data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24));
    // Byte j of the 64-bit value looks up table 7 - j.
    const i0 = 3584 + ((a & 0xff) << 1);
    const i1 = 3072 + (((a >>> 8) & 0xff) << 1);
    const i2 = 2560 + (((a >>> 16) & 0xff) << 1);
    const i3 = 2048 + ((a >>> 24) << 1);
    const i4 = 1536 + ((b & 0xff) << 1);
    const i5 = 1024 + (((b >>> 8) & 0xff) << 1);
    const i6 = 512 + (((b >>> 16) & 0xff) << 1);
    const i7 = (b >>> 24) << 1;
    lo = t[i0]! ^ t[i1]! ^ t[i2]! ^ t[i3]! ^ t[i4]! ^ t[i5]! ^ t[i6]! ^ t[i7]!;
    hi = t[i0 + 1]! ^ t[i1 + 1]! ^ t[i2 + 1]! ^ t[i3 + 1]! ^ t[i4 + 1]! ^ t[i5 + 1]! ^ t[i6 + 1]! ^ t[i7 + 1]!;
    i += 8;
  }
  while (i < n) {
    const q = ((lo ^ data[i++]!) & 0xff) << 1;
    lo = ((lo >>> 8) | (hi << 24)) ^ t[q]!;
    hi = (hi >>> 8) ^ t[q + 1]!;
  }
  state.lo = lo;
  state.hi = hi;
}

/** The final CRC64/NVME as 8 big-endian bytes (how S3 base64-encodes it). */
export function crc64nvmeDigest(state: Crc64State): Buffer {
  const out = Buffer.allocUnsafe(8);
  out.writeUInt32BE(~state.hi >>> 0, 0);
  out.writeUInt32BE(~state.lo >>> 0, 4);
  return out;
}
