import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {LOG_FORMAT, parseCommit, parseLog, readReleases, renderChangelog} from '../../scripts/changelog.js'
import {scratchDirectory} from '../support/packaging/package.js'

describe('changelog from conventional commits (scripts/changelog.ts)', () => {
  it('parses type, scope, breaking marks, and messages that are not conventional', () => {
    expect(parseCommit('a1', 'feat(auth): add accounts')).to.deep.equal({
      breaking: false,
      hash: 'a1',
      scope: 'auth',
      subject: 'add accounts',
      type: 'feat',
    })
    expect(parseCommit('a2', 'fix!: drop --old').breaking).to.equal(true)
    expect(
      parseCommit('a3', 'perf: faster', 'Details.\n\nBREAKING CHANGE: the table layout changed').breaking,
    ).to.equal(true)
    expect(parseCommit('a4', 'Merge branch x')).to.deep.include({breaking: false, type: 'other'})
  })

  it('reads git log records, bodies with blank lines included', () => {
    const log = `abc${'\u001F'}feat: one${'\u001F'}body\n\nmore${'\u001E'}\ndef${'\u001F'}test: two${'\u001F'}${'\u001E'}\n`
    expect(parseLog(log).map((commit) => [commit.hash, commit.type, commit.subject])).to.deep.equal([
      ['abc', 'feat', 'one'],
      ['def', 'test', 'two'],
    ])
    expect(LOG_FORMAT).to.include('%h')
  })

  it('renders releases newest first, grouped by type, internal types left out', () => {
    const text = renderChangelog([
      {
        commits: [
          parseCommit('c3', 'feat(sql)!: new output format'),
          parseCommit('c2', 'test: more tests'),
          parseCommit('c1', 'fix: a bug'),
        ],
      },
      {commits: [parseCommit('b1', 'chore: tidy')], date: '2024-05-01', version: '0.2.0'},
      {commits: [parseCommit('a1', 'feat: first')], date: '2024-04-01', version: '0.1.0'},
    ])
    expect(text).to.equal(
      [
        '# Changelog',
        '',
        'Notable changes to mpx (the npm package `mpx-mixpanel`), generated from its [conventional commits](https://www.conventionalcommits.org/)',
        'by `npm run changelog`.',
        '',
        '## Unreleased',
        '',
        '### Breaking changes',
        '',
        '- **sql:** new output format (c3)',
        '',
        '### Features',
        '',
        '- **sql:** new output format (c3)',
        '',
        '### Fixes',
        '',
        '- a bug (c1)',
        '',
        '## 0.1.0 (2024-04-01)',
        '',
        '### Features',
        '',
        '- first (a1)',
        '',
      ].join('\n'),
    )
  })

  it('splits a repository history at its version tags', () => {
    const repo = join(scratchDirectory(), 'changelog-repo')
    mkdirSync(repo, {recursive: true})
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {cwd: repo})
    git('init', '--quiet')
    const commit = (message: string) => {
      writeFileSync(join(repo, 'file.txt'), message)
      git('add', 'file.txt')
      git('commit', '--quiet', '-m', message)
    }

    commit('feat: first')
    git('tag', 'v0.1.0')
    commit('fix: second')
    commit('feat: third')
    const releases = readReleases(repo)
    expect(releases.map((release) => [release.version, release.commits.map((c) => c.subject)])).to.deep.equal([
      [undefined, ['third', 'second']],
      ['0.1.0', ['first']],
    ])
    expect(releases[1].date).to.match(/^\d{4}-\d\d-\d\d$/)
    const released = readReleases(repo, {release: {date: '2030-01-02', version: '0.2.0'}})
    expect(renderChangelog(released)).to.include('## 0.2.0 (2030-01-02)\n\n### Features\n\n- third')
  })
})
