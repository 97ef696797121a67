/**
 * The npm packages the benchmark compares mpx with. They are not dependencies of mpx: the benchmark
 * installs each on demand, at a pinned version, into a cache directory of its own (by default
 * node_modules/.cache/mpx-bench, so `npm ci` starts afresh), and reuses it on the next run.
 */
import {spawn} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {mkdir} from 'node:fs/promises'
import {join} from 'node:path'

/** `mixpanel-import`: its event export is what npm offers for the same job as `mpx fetch:events --raw -o`. */
export const MIXPANEL_IMPORT = {name: 'mixpanel-import', version: '3.1.43'} as const

export type PeerInstall = {readonly packageDir: string} | {readonly reason: string}

function installedVersion(packageDir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {version?: string}).version
  } catch {
    return undefined
  }
}

/**
 * The package's directory once installed under `cacheDir` (`npm install --prefix`), or why it could
 * not be: `install: false` only reuses what an earlier run installed.
 */
export async function installPeer(
  peer: {readonly name: string; readonly version: string},
  cacheDir: string,
  options: {install: boolean; log?: (message: string) => void},
): Promise<PeerInstall> {
  const prefix = join(cacheDir, `${peer.name}@${peer.version}`)
  const packageDir = join(prefix, 'node_modules', peer.name)
  if (installedVersion(packageDir) === peer.version) return {packageDir}
  if (!options.install) return {reason: `${peer.name}@${peer.version} is not installed in ${prefix} (installs off)`}
  options.log?.(`installing ${peer.name}@${peer.version} into ${prefix}…`)
  await mkdir(prefix, {recursive: true})
  // npm itself, as the benchmark was started (npm run bench), else the one on PATH.
  const npmCli = process.env.npm_execpath
  const [command, args] =
    npmCli && existsSync(npmCli) && npmCli.endsWith('.js') ? [process.execPath, [npmCli]] : ['npm', []]
  const stderr: Buffer[] = []
  const code = await new Promise<null | number>((resolve) => {
    const child = spawn(
      command,
      [
        ...args,
        'install',
        '--prefix',
        prefix,
        '--no-save',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        '--loglevel=error',
        `${peer.name}@${peer.version}`,
      ],
      {stdio: ['ignore', 'ignore', 'pipe']},
    )
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk))
    child.once('error', () => resolve(null))
    child.once('close', resolve)
  })
  if (code === 0 && installedVersion(packageDir) === peer.version) return {packageDir}
  const why = Buffer.concat(stderr).toString('utf8').trim().split('\n').slice(-2).join(' ').slice(0, 200)
  return {reason: `npm install ${peer.name}@${peer.version} failed (${code ?? 'not started'}): ${why || 'no message'}`}
}
