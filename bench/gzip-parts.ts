/**
 * Gzip bodies assembled from pre-compressed parts, so that the benchmark server spends no CPU on
 * compression while it serves: each part is raw deflate ended by a sync flush (byte-aligned, and
 * decodable on its own), and any run of consecutive parts, framed by a gzip header, an empty final
 * block and a trailer, is one valid gzip member. The trailer's CRC-32 of the whole run is combined
 * from the parts' CRCs (zlib's crc32_combine), so the uncompressed text need not be kept.
 */

// eslint-disable-next-line n/no-unsupported-features/node-builtins -- the benchmark runs on the repository's Node 24
import {constants, crc32, deflateRaw} from 'node:zlib'

export interface GzipPart {
  /** CRC-32 of the uncompressed text. */
  readonly crc: number
  /** Raw deflate data ending with a sync flush. */
  readonly deflated: Buffer
  /** Uncompressed length in bytes. */
  readonly size: number
}

/** Gzip header: deflate, no flags, mtime 0, unknown OS. */
const HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])
/** An empty final deflate block (fixed Huffman, end of block): `deflateRaw('', Z_FINISH)`. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00])

const POLY = 0xed_b8_83_20

/* eslint-disable no-bitwise -- CRC arithmetic over GF(2) */

/** a(x) * b(x) modulo the CRC-32 polynomial (reflected), as zlib's multmodp. */
function multiplyModP(a: number, b: number): number {
  let m = 0x80_00_00_00
  let p = 0
  for (;;) {
    if ((a & m) !== 0) {
      p ^= b
      if ((a & (m - 1)) === 0) break
    }

    m >>>= 1
    b = (b & 1) === 0 ? b >>> 1 : (b >>> 1) ^ POLY
  }

  return p >>> 0
}

/** x^(2^k) modulo p, for k = 0..31. */
const X2N: number[] = [0x40_00_00_00]
for (let k = 1; k < 32; k++) X2N.push(multiplyModP(X2N[k - 1], X2N[k - 1]))

/** x^(n * 2^k) modulo p. */
function x2nModP(n: number, k: number): number {
  let p = 0x80_00_00_00
  while (n > 0) {
    if (n % 2 === 1) p = multiplyModP(X2N[k % 32], p)
    n = Math.floor(n / 2)
    k++
  }

  return p
}

/** CRC-32 of A followed by B, from CRC(A), CRC(B) and B's length. */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  return (multiplyModP(x2nModP(lengthB, 3), crcA) ^ crcB) >>> 0
}

/* eslint-enable no-bitwise */

/** Compresses one part (in zlib's thread pool). */
export async function gzipPart(text: Buffer, level: number): Promise<GzipPart> {
  const deflated = await new Promise<Buffer>((resolve, reject) => {
    deflateRaw(text, {finishFlush: constants.Z_SYNC_FLUSH, level}, (error, result) =>
      error ? reject(error) : resolve(result),
    )
  })
  return {crc: crc32(text), deflated, size: text.length}
}

/** The pieces of one gzip member holding `parts` in order (empty when every part is empty). */
export function gzipMember(parts: readonly GzipPart[]): Buffer[] {
  let crc = 0
  let size = 0
  for (const part of parts) {
    crc = crc32Combine(crc, part.crc, part.size)
    size += part.size
  }

  if (size === 0) return []
  const trailer = Buffer.alloc(8)
  trailer.writeUInt32LE(crc, 0)
  trailer.writeUInt32LE(size % 2 ** 32, 4)
  return [HEADER, ...parts.filter((part) => part.size > 0).map((part) => part.deflated), FINAL_BLOCK, trailer]
}
