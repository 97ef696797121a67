/**
 * JSONL into S3-compatible object storage (`-o s3://bucket/key`), run as users run mpx, against a
 * real S3 protocol server on 127.0.0.1 (test/support/fake-s3.ts) and the fake Mixpanel.
 */
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {binRun, outcome, runMpx} from '../support/cli.js'
import {E2E_ACCOUNT, e2eEnv, expectNoSecret, expectOneLineError} from '../support/e2e.js'
import {type FakeMixpanel, startFakeMixpanel} from '../support/fake-mixpanel.js'
import {type FakeS3, S3_SECRET_KEY, startFakeS3} from '../support/fake-s3.js'
import {generateEvents, generateProfiles} from '../support/generate.js'
import {heavyModules, runNode} from '../support/packaging/package.js'
import {temporaryDirectory} from '../support/temporary.js'

const events = generateEvents({count: 3000, from: '2024-01-01', seed: 5, to: '2024-01-03'})
const profiles = generateProfiles({count: 400, seed: 6})

describe('-o s3://bucket/key: JSONL streamed into object storage', () => {
  let mixpanel: FakeMixpanel
  let s3: FakeS3
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>
  let env: Record<string, string>
  const run = (args: string[], extra: Record<string, string> = {}) => runMpx(args, {env: {...env, ...extra}})

  before(async () => {
    mixpanel = await startFakeMixpanel({auth: E2E_ACCOUNT, events, profiles})
    s3 = await startFakeS3()
    directory = await temporaryDirectory()
    env = {...e2eEnv(mixpanel.url, directory.path), ...s3.env()}
  })

  after(async () => {
    await mixpanel.close()
    await s3.close()
    await directory.remove()
  })

  it('writes events and profiles equal to --stdout, and nothing else in the bucket', async () => {
    const stdout = await run(['fetch:events', '2024-01-01', '2024-01-03', '--stdout'])
    expect(stdout.code, stdout.stderr).to.equal(0)
    const uploaded = await run(['fetch:events', '2024-01-01', '2024-01-03', '-o', 's3://lake/raw/events.jsonl'])
    expect(uploaded.code, uploaded.stderr).to.equal(0)
    expect(uploaded.stdout).to.equal('')
    expect(await s3.read('raw/events.jsonl')).to.equal(stdout.stdout)

    const profileStdout = await run(['fetch:profiles', '--stdout'])
    const profileUpload = await run(['fetch:profiles', '-o', 's3://lake/raw/profiles.jsonl'])
    expect(profileUpload.code, profileUpload.stderr).to.equal(0)
    expect(await s3.read('raw/profiles.jsonl')).to.equal(profileStdout.stdout)
    expect(profileStdout.stdout.split('\n')).to.have.length(401)

    expect(await s3.keys()).to.deep.equal(['raw/events.jsonl', 'raw/profiles.jsonl'])
    expect(await s3.openUploads()).to.deep.equal([])
  })

  it('loads the AWS SDK only for an s3:// target', async () => {
    const range = ['fetch:events', '2024-01-01', '2024-01-01', '--quiet']
    const local = await runNode(binRun, [...range, '-o', join(directory.path, 'local.jsonl')], {env, record: true})
    expect(local.code, local.stderr).to.equal(0)
    expect(heavyModules(local.loaded)).to.deep.equal(['got'])
    const remote = await runNode(binRun, [...range, '-o', 's3://lake/sdk/events.jsonl'], {env, record: true})
    expect(remote.code, remote.stderr).to.equal(0)
    expect(remote.loaded).to.include.members(['@aws-sdk/client-s3', '@aws-sdk/lib-storage'])
  })

  it('refuses a key that exists unless --replace, and cannot --append', async () => {
    await s3.put('kept/events.jsonl', 'old\n')
    const refused = await run(['fetch:events', '2024-01-01', '2024-01-01', '-o', 's3://lake/kept/events.jsonl'])
    expect(refused.code).to.equal(1)
    expectOneLineError(refused.stderr, /s3:\/\/lake\/kept\/events\.jsonl already exists: replace it/)
    expect(await s3.read('kept/events.jsonl')).to.equal('old\n')

    const appended = await run([
      'fetch:events',
      '2024-01-01',
      '2024-01-01',
      '-o',
      's3://lake/kept/events.jsonl',
      '--append',
    ])
    expect(appended.code).to.equal(3)
    expectOneLineError(appended.stderr, /cannot be appended to/)

    const replaced = await run([
      'fetch:events',
      '2024-01-01',
      '2024-01-01',
      '-o',
      's3://lake/kept/events.jsonl',
      '--replace',
    ])
    expect(replaced.code, replaced.stderr).to.equal(0)
    const stdout = await run(['fetch:events', '2024-01-01', '2024-01-01', '--stdout'])
    expect(await s3.read('kept/events.jsonl')).to.equal(stdout.stdout)
  })

  it('denied credentials exit 2 and a missing bucket exits 4, before Mixpanel is asked, secrets unprinted', async () => {
    const before = mixpanel.requests.length
    const denied = await run(['fetch:events', '2024-01-01', '2024-01-01', '-o', 's3://lake/denied.jsonl'], {
      AWS_ACCESS_KEY_ID: 'AKIAWRONGWRONGWRONG1',
      AWS_SECRET_ACCESS_KEY: 'wrong-aws-secret-never-shown-0b1c',
    })
    expect(denied.code).to.equal(2)
    expectOneLineError(denied.stderr, /s3:\/\/lake\/denied\.jsonl \(InvalidAccessKeyId\): check the credentials/)
    expect(denied.stderr).to.not.include('wrong-aws-secret-never-shown-0b1c')
    expect(denied.stderr).to.not.include(S3_SECRET_KEY.toLowerCase())

    const missing = await run(['fetch:events', '2024-01-01', '2024-01-01', '-o', 's3://no-such-bucket/events.jsonl'])
    expect(missing.code).to.equal(4)
    expectOneLineError(missing.stderr, /Bucket no-such-bucket does not exist \(NoSuchBucket\)/)
    expectNoSecret(denied.stderr + missing.stderr, 'stderr')
    expect(mixpanel.requests.length, 'no request to Mixpanel').to.equal(before)
  })

  it('an interrupted upload aborts its multipart upload and leaves the key as it was', async () => {
    // About 16 MB of events, sent slowly: the upload has begun its parts (8 MB each) when Ctrl-C comes.
    const slow = await startFakeMixpanel({
      bytesPerSecond: 4 * 1024 * 1024,
      events: generateEvents({count: 40_000, from: '2024-02-01', seed: 9, to: '2024-02-02'}),
    })
    try {
      await s3.put('slow/events.jsonl', 'old\n')
      const child = spawn(
        process.execPath,
        [binRun, 'fetch:events', '2024-02-01', '2024-02-02', '-o', 's3://lake/slow/events.jsonl', '--replace'],
        {env: {HOME: process.env.HOME, PATH: process.env.PATH, ...env, MPX_API_URL: slow.url}},
      )
      const closed = outcome(child)
      while (!s3.requests.some((request) => request.startsWith('PUT /lake/slow/events.jsonl?partNumber=1'))) {
        await sleep(50)
      }

      child.kill('SIGINT')
      const result = await closed
      expect(result.code, result.stderr).to.equal(130)
      expect(await s3.read('slow/events.jsonl')).to.equal('old\n')
      expect(await s3.openUploads(), 'no multipart upload left').to.deep.equal([])
      expect(s3.aborts).to.be.greaterThan(0)
    } finally {
      await slow.close()
    }
  })
})
