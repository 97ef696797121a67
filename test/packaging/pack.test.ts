import {expect} from 'chai'
import {normalizeEventLine} from 'mpx-mixpanel-core/internal/records/events.js'
import {existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {coreDirectory, installTarballs, npm, packageJson, repoRoot} from '../../scripts/pack.js'
import {type FakeMixpanel, startFakeMixpanel} from '../support/fake-mixpanel.js'
import {generateEvents} from '../support/generate.js'
import {
  cliOnlyPackages,
  directoryBytes,
  heavyModules,
  installedPackages,
  packedTarballs,
  runCommand,
  runNode,
  type RunOptions,
  type RunResult,
  scratchDirectory,
} from '../support/packaging/package.js'

const {version} = packageJson()
const events = generateEvents({count: 200, from: '2024-03-01', seed: 8, to: '2024-03-04'})
const SECRET = 'pack-test-secret'

/** An ESM script that streams the fake Mixpanel's events with the library imported from `from`. */
function streamScript(from: string): string {
  return [
    `import {Mixpanel, MpxError} from '${from}'`,
    `import pkg from '${from}/package.json' with {type: 'json'}`,
    'const mp = new Mixpanel({',
    '  apiUrl: process.env.MPX_API_URL,',
    "  credentials: {projectId: 77, secret: process.env.MP_SECRET, username: 'svc'},",
    '  retry: {minDelayMs: 1},',
    '})',
    'const names = new Set()',
    'let count = 0',
    "for await (const event of mp.streamEvents({from: '2024-03-01', to: '2024-03-04'})) {",
    '  count++',
    '  names.add(event.event_name)',
    '}',
    'console.log(JSON.stringify({count, error: typeof MpxError, names: names.size, version: pkg.version}))',
  ].join('\n')
}

/**
 * Runs streamScript(from) in `directory`: it exits 0 having streamed the 200 events, with the
 * package's version and its MpxError class. Resolves with the run and how many event names it saw.
 */
async function expectStreams(
  directory: string,
  from: string,
  options: RunOptions,
): Promise<{names: number; result: RunResult}> {
  const script = join(directory, 'stream.js')
  writeFileSync(script, streamScript(from))
  const result = await runNode(script, [], options)
  expect(result.code, result.stderr).to.equal(0)
  const output = JSON.parse(result.stdout) as {count: number; error: string; names: number; version: string}
  expect(output).to.deep.include({count: 200, error: 'function', version})
  return {names: output.names, result}
}

/** Runs in `directory` a CommonJS script that requires `from`: its Mixpanel class is there. */
async function expectRequires(directory: string, from: string, env: Record<string, string>): Promise<void> {
  const script = join(directory, 'require.cjs')
  writeFileSync(script, `const {Mixpanel} = require('${from}')\nconsole.log(typeof Mixpanel)\n`)
  const result = await runNode(script, [], {env})
  expect(result.code, result.stderr).to.equal(0)
  expect(result.stdout).to.equal('function\n')
}

describe('npm package: packed, installed with npm install -g, run', function () {
  // npm pack builds; npm install fetches the dependencies (from npm's cache when it has them).
  this.timeout(600_000)

  let prefix: string
  let installed: string
  let bin: string
  let server: FakeMixpanel
  let env: Record<string, string>

  before(async () => {
    prefix = join(scratchDirectory(), 'prefix')
    installed = await installTarballs(await packedTarballs(), prefix)
    bin = join(installed, 'bin', 'run.js')
    server = await startFakeMixpanel({auth: {secret: SECRET, username: 'svc'}, events, gzipChunkBytes: 700})
    env = {
      HOME: join(scratchDirectory(), 'home'),
      MP_PROJECT_ID: '77',
      MP_SECRET: SECRET,
      MP_USERNAME: 'svc',
      MPX_API_URL: server.url,
      MPX_CONFIG: join(scratchDirectory(), 'no-config.json'),
      MPX_DATA_DIR: join(scratchDirectory(), 'data'),
      MPX_RETRY_DELAY_MS: '1',
    }
  })

  after(async () => server?.close())

  it('ships the build, the bin and the oclif manifest; no sources or tests', () => {
    const shipped = [
      'bin/run.js',
      'dist/index.js',
      'dist/index.d.ts',
      'oclif.manifest.json',
      'README.md',
      'CHANGELOG.md',
    ]
    for (const file of shipped) {
      expect(existsSync(join(installed, file)), file).to.equal(true)
    }

    for (const directory of ['src', 'test', 'scripts', 'packaging']) {
      expect(existsSync(join(installed, directory)), directory).to.equal(false)
    }

    const manifest = JSON.parse(readFileSync(join(installed, 'oclif.manifest.json'), 'utf8')) as {
      commands: Record<string, unknown>
      version: string
    }
    expect(manifest.version).to.equal(version)
    expect(Object.keys(manifest.commands)).to.include.members(['fetch:events', 'fetch:profiles'])
    // postpack removed the manifest from the (copied) sources: none is ever left in the checkout.
    expect(existsSync(join(repoRoot, 'oclif.manifest.json'))).to.equal(false)
  })

  it('installs an mpx executable that runs: mpx --version', async () => {
    const result = await runCommand(join(prefix, 'bin', 'mpx'), ['--version'], {env})
    expect(result.code).to.equal(0)
    expect(result.stdout).to.match(new RegExp(`^mpx-mixpanel/${version.replaceAll('.', String.raw`\.`)} `))
  })

  it('mpx fetch:events --help: usage, flags and examples', async () => {
    const result = await runNode(bin, ['fetch:events', '--help'], {env})
    expect(result.code).to.equal(0)
    expect(result.stdout).to.include('$ mpx fetch:events FROM TO [TABLE]')
    expect(result.stdout).to.include('--stdout')
    expect(result.stdout).to.include('EXAMPLES')
    expect(result.stderr).to.equal('')
  })

  it('mpx alone lists the topics', async () => {
    const result = await runNode(bin, [], {env})
    expect(result.code).to.equal(0)
    expect(result.stdout).to.match(/TOPICS\n(.*\n)*\s+fetch\s+\S/)
    expect(result.stdout).to.match(/TOPICS\n(.*\n)*\s+auth\s+\S/)
  })

  it('fetch:events --stdout streams every event from the (fake) Mixpanel', async () => {
    const result = await runNode(bin, ['fetch:events', '2024-03-01', '2024-03-04', '--stdout'], {env})
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.equal([...events.lines()].map((line) => normalizeEventLine(line) + '\n').join(''))
    expect(result.stderr).to.match(/Fetched 200 events to stdout/)
  })

  describe('start-up: what each command loads', () => {
    it('--version loads no heavy module, and no module of mpx (commands come from the manifest)', async () => {
      const result = await runNode(bin, ['--version'], {env, record: true})
      expect(result.code).to.equal(0)
      expect(result.loaded, 'the recorder saw the CLI start').to.include('@oclif/core')
      expect(heavyModules(result.loaded)).to.deep.equal([])
      expect(result.loaded.filter((name) => name.startsWith('mpx/dist/'))).to.deep.equal([])
      expect(result.loaded).to.not.include('mpx-mixpanel-core')
    })

    it('fetch:events --help loads no heavy module, and no module of mpx', async () => {
      const result = await runNode(bin, ['fetch:events', '--help'], {env, record: true})
      expect(result.code).to.equal(0)
      expect(heavyModules(result.loaded)).to.deep.equal([])
      expect(result.loaded.filter((name) => name.startsWith('mpx/dist/'))).to.deep.equal([])
    })

    it('fetch:events --stdout never loads DuckDB (nor the spinner without a terminal)', async () => {
      const result = await runNode(bin, ['fetch:events', '2024-03-01', '2024-03-02', '--stdout', '--quiet'], {
        env,
        record: true,
      })
      expect(result.code, result.stderr).to.equal(0)
      expect(result.stdout.split('\n').length).to.be.greaterThan(10)
      // The recorder does see what a fetch needs: the command, and got for the requests.
      expect(result.loaded).to.include.members(['got', 'mpx-mixpanel-core', 'mpx/dist/commands/fetch/events.js'])
      expect(heavyModules(result.loaded)).to.deep.equal(['got'])
    })
  })

  describe('as a library', () => {
    let consumer: string

    before(() => {
      consumer = join(scratchDirectory(), 'consumer')
      mkdirSync(join(consumer, 'node_modules'), {recursive: true})
      symlinkSync(installed, join(consumer, 'node_modules', 'mpx-mixpanel'), 'junction')
      writeFileSync(join(consumer, 'package.json'), JSON.stringify({name: 'consumer', private: true, type: 'module'}))
    })

    it("import {Mixpanel} from 'mpx-mixpanel' streams events in an ESM script", async () => {
      const {names} = await expectStreams(consumer, 'mpx-mixpanel', {env})
      expect(names).to.be.greaterThan(1)
    })

    it("require('mpx-mixpanel') works too, from CommonJS (Node's require of ES modules)", async () => {
      await expectRequires(consumer, 'mpx-mixpanel', env)
    })

    it('type-checks a TypeScript consumer against the installed types', async () => {
      writeFileSync(
        join(consumer, 'consumer.ts'),
        [
          "import {type CredentialsInput, Mixpanel, MpxError, type NormalizedEvent, type RawEvent} from 'mpx-mixpanel'",
          '',
          "const credentials: CredentialsInput = {projectId: 1, secret: 's', username: 'u'}",
          "const mp = new Mixpanel({credentials, region: 'eu', retry: {attempts: 2}})",
          '',
          'export async function names(): Promise<string[]> {',
          '  const seen: string[] = []',
          "  for await (const event of mp.streamEvents({from: '2024-01-01', to: '2024-01-31'})) {",
          '    const normalized: NormalizedEvent = event',
          '    seen.push(normalized.event_name)',
          '  }',
          '',
          "  for await (const raw of mp.streamEvents({format: 'raw', from: '2024-01-01', to: '2024-01-31'})) {",
          '    const typed: RawEvent = raw',
          '    seen.push(typed.event)',
          '  }',
          '',
          '  return seen',
          '}',
          '',
          'export const isMpxError = (error: unknown): boolean => error instanceof MpxError',
          '',
          '// The types are real, not any: a wrong call is an error.',
          '// @ts-expect-error from is a YYYY-MM-DD string',
          "mp.streamEvents({from: 20_240_101, to: '2024-01-31'})",
        ].join('\n'),
      )
      writeFileSync(
        join(consumer, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            lib: ['ES2024'],
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            noEmit: true,
            strict: true,
            target: 'ES2023',
            typeRoots: [join(repoRoot, 'node_modules', '@types')],
            types: ['node'],
          },
          files: ['consumer.ts'],
        }),
      )
      const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc')
      const result = await runNode(tsc, ['-p', join(consumer, 'tsconfig.json')], {env})
      expect(result.stdout + result.stderr).to.equal('')
      expect(result.code).to.equal(0)
    })
  })

  describe('mpx-mixpanel-core alone: streaming without the CLI', () => {
    let project: string

    before(async () => {
      project = join(scratchDirectory(), 'core-only')
      mkdirSync(project, {recursive: true})
      writeFileSync(join(project, 'package.json'), JSON.stringify({name: 'core-only', private: true, type: 'module'}))
      await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', (await packedTarballs()).core], project)
    })

    it('ships the build and its types; no sources or tests', () => {
      const core = join(project, 'node_modules', 'mpx-mixpanel-core')
      for (const file of ['dist/index.js', 'dist/index.d.ts', 'dist/mixpanel/export/source.js', 'package.json']) {
        expect(existsSync(join(core, file)), file).to.equal(true)
      }

      for (const directory of ['src', 'test']) expect(existsSync(join(core, directory)), directory).to.equal(false)
      const manifest = JSON.parse(readFileSync(join(repoRoot, coreDirectory, 'package.json'), 'utf8')) as {
        version: string
      }
      expect(manifest.version).to.equal(version)
    })

    it("installs no oclif, DuckDB, ora or AWS package, and a small part of the CLI's node_modules", () => {
      const packages = installedPackages(join(project, 'node_modules'))
      expect(packages).to.include.members(['mpx-mixpanel-core', 'got', 'ajv'])
      expect(cliOnlyPackages(packages)).to.deep.equal([])
      // The CLI's install does bring them: the check can tell.
      expect(cliOnlyPackages(installedPackages(join(installed, 'node_modules')))).to.include.members([
        '@oclif/core',
        '@duckdb/node-api',
        'ora',
      ])
      const coreBytes = directoryBytes(join(project, 'node_modules'))
      const cliBytes = directoryBytes(join(installed, '..'))
      const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`
      console.log(
        `      node_modules: mpx-mixpanel-core alone ${mb(coreBytes)}; mpx-mixpanel (with core) ${mb(cliBytes)}`,
      )
      expect(coreBytes).to.be.below(cliBytes / 10)
    })

    it("import {Mixpanel} from 'mpx-mixpanel-core' streams events in an ESM script", async () => {
      const {result} = await expectStreams(project, 'mpx-mixpanel-core', {env, record: true})
      expect(result.loaded).to.include.members(['got', 'mpx-mixpanel-core'])
    })

    it("require('mpx-mixpanel-core') works from CommonJS", async () => {
      await expectRequires(project, 'mpx-mixpanel-core', env)
    })
  })
})
