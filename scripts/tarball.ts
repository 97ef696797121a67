/** Reads npm's .tgz tarballs (gzip + ustar, as `npm pack` writes them) without a tar executable. */
import {createHash} from 'node:crypto'
import {chmodSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {dirname, join, normalize, sep} from 'node:path'
import {gunzipSync} from 'node:zlib'

export interface TarEntry {
  content: Buffer
  mode: number
  /** As in the archive, e.g. `package/package.json`. */
  path: string
}

const BLOCK = 512

function field(header: Buffer, start: number, length: number): string {
  const raw = header.subarray(start, start + length)
  const end = raw.indexOf(0)
  return raw.subarray(0, end === -1 ? length : end).toString('utf8')
}

function octal(header: Buffer, start: number, length: number): number {
  return Number.parseInt(field(header, start, length).trim() || '0', 8)
}

/** The `path` of a pax extended header (`<length> path=<value>\n` records), if it has one. */
function paxPath(content: Buffer): string | undefined {
  for (const record of content.toString('utf8').split('\n')) {
    const match = /^\d+ path=(.*)$/.exec(record)
    if (match) return match[1]
  }

  return undefined
}

/** The regular files of a .tgz, in archive order. */
export function readTarball(tarball: Buffer): TarEntry[] {
  const archive = gunzipSync(tarball)
  const entries: TarEntry[] = []
  let longPath: string | undefined
  for (let offset = 0; offset + BLOCK <= archive.length;) {
    const header = archive.subarray(offset, offset + BLOCK)
    if (header.every((byte) => byte === 0)) break
    const size = octal(header, 124, 12)
    const type = field(header, 156, 1)
    const content = archive.subarray(offset + BLOCK, offset + BLOCK + size)
    offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK
    if (type === 'x') {
      longPath = paxPath(content)
      continue
    }

    const prefix = field(header, 345, 155)
    const path = longPath ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100))
    longPath = undefined
    if (type === '0' || type === '') entries.push({content: Buffer.from(content), mode: octal(header, 100, 8), path})
  }

  return entries
}

/** The package.json inside an npm tarball. */
export function tarballPackage(tarballPath: string): {name: string; version: string} {
  const entry = readTarball(readFileSync(tarballPath)).find(({path}) => path === 'package/package.json')
  if (!entry) throw new Error(`${tarballPath} has no package/package.json: not an npm tarball`)
  return JSON.parse(entry.content.toString('utf8')) as {name: string; version: string}
}

/** Extracts a tarball into `directory`, dropping its top directory (`package/`), as Homebrew does. */
export function extractTarball(tarballPath: string, directory: string): void {
  for (const entry of readTarball(readFileSync(tarballPath))) {
    const relativePath = normalize(entry.path.split('/').slice(1).join(sep))
    if (relativePath.startsWith('..') || relativePath === '.') throw new Error(`Unsafe path in tarball: ${entry.path}`)
    const target = join(directory, relativePath)
    mkdirSync(dirname(target), {recursive: true})
    writeFileSync(target, entry.content)
    chmodSync(target, entry.mode % 0o1000 || 0o644)
  }
}

/** The file's SHA-256, hex, as Homebrew's `sha256` wants it. */
export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}
