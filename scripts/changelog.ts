/**
 * CHANGELOG.md from the conventional commits in git history: one section per release tag (`v*`),
 * newest first, commits grouped by type; commits after the newest tag under "Unreleased".
 *
 *   npm run changelog                 # rewrite CHANGELOG.md
 *   npm run changelog -- --release    # the untagged commits as the package.json version, today
 *                                     # (the npm `version` script does this before tagging)
 *
 * Types shown: feat, fix, perf, revert, refactor, docs, build (test, style, ci and chore are
 * internal). A `!` after the type, or a `BREAKING CHANGE:` footer, also lists the commit under
 * "Breaking changes".
 */
import {execFileSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

import {repoRoot} from './pack.js'

export interface Commit {
  breaking: boolean
  hash: string
  scope?: string
  subject: string
  /** `feat`, `fix`, ...; `other` for a message that is not a conventional commit. */
  type: string
}

export interface Release {
  commits: Commit[]
  /** YYYY-MM-DD, for a released version. */
  date?: string
  /** undefined: not released yet. */
  version?: string
}

export const sections: ReadonlyArray<{title: string; type: string}> = [
  {title: 'Features', type: 'feat'},
  {title: 'Fixes', type: 'fix'},
  {title: 'Performance', type: 'perf'},
  {title: 'Reverts', type: 'revert'},
  {title: 'Refactoring', type: 'refactor'},
  {title: 'Documentation', type: 'docs'},
  {title: 'Build and packaging', type: 'build'},
]

const FIELD = '\u001F'
const RECORD = '\u001E'
/** `git log --format` for parseLog: short hash, subject, body. */
export const LOG_FORMAT = `%h${FIELD}%s${FIELD}%b${RECORD}`

/** Parses one commit message (subject and body). */
export function parseCommit(hash: string, subject: string, body = ''): Commit {
  const match = /^(\w+)(?:\(([^)]*)\))?(!)?: (.+)$/.exec(subject.trim())
  const breakingFooter = /^BREAKING[ -]CHANGE: /m.test(body)
  if (!match) return {breaking: breakingFooter, hash, subject: subject.trim(), type: 'other'}
  const [, type, scope, bang, text] = match
  return {
    breaking: Boolean(bang) || breakingFooter,
    hash,
    scope: scope || undefined,
    subject: text,
    type: type.toLowerCase(),
  }
}

/** Parses `git log --format=${LOG_FORMAT}` output. */
export function parseLog(log: string): Commit[] {
  return log
    .split(RECORD)
    .map((record) => record.replace(/^\n/, ''))
    .filter((record) => record.trim() !== '')
    .map((record) => {
      const [hash = '', subject = '', body = ''] = record.split(FIELD)
      return parseCommit(hash, subject, body)
    })
}

function entry(commit: Commit): string {
  const scope = commit.scope ? `**${commit.scope}:** ` : ''
  return `- ${scope}${commit.subject} (${commit.hash})`
}

/** Markdown for the releases, in the order given (newest first). */
export function renderChangelog(releases: readonly Release[]): string {
  const lines = [
    '# Changelog',
    '',
    'Notable changes to mpx (the npm package `mpx-mixpanel`), generated from its [conventional commits](https://www.conventionalcommits.org/)',
    'by `npm run changelog`.',
  ]
  for (const release of releases) {
    const heading = release.version ? `${release.version}${release.date ? ` (${release.date})` : ''}` : 'Unreleased'
    const groups = [
      {commits: release.commits.filter((commit) => commit.breaking), title: 'Breaking changes'},
      ...sections.map(({title, type}) => ({commits: release.commits.filter((commit) => commit.type === type), title})),
    ].filter((group) => group.commits.length > 0)
    if (groups.length === 0) continue
    lines.push('', `## ${heading}`)
    for (const group of groups)
      lines.push('', `### ${group.title}`, '', ...group.commits.map((commit) => entry(commit)))
  }

  return lines.join('\n') + '\n'
}

function git(args: readonly string[], cwd: string): string {
  return execFileSync('git', args, {cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024})
}

/** The releases in a repository's history, newest first (the untagged commits first of all). */
export function readReleases(cwd = repoRoot, options: {release?: {date: string; version: string}} = {}): Release[] {
  const tags = git(['tag', '--list', 'v*', '--sort=-v:refname', '--merged', 'HEAD'], cwd).split('\n').filter(Boolean)
  const log = (range: string) => parseLog(git(['log', '--no-merges', `--format=${LOG_FORMAT}`, range], cwd))
  const releases: Release[] = [
    {
      commits: log(tags[0] ? `${tags[0]}..HEAD` : 'HEAD'),
      date: options.release?.date,
      version: options.release?.version,
    },
  ]
  for (const [index, tag] of tags.entries()) {
    const previous = tags[index + 1]
    releases.push({
      commits: log(previous ? `${previous}..${tag}` : tag),
      date: git(['log', '-1', '--format=%ad', '--date=short', tag], cwd).trim(),
      version: tag.replace(/^v/, ''),
    })
  }

  return releases
}

function main(): void {
  const {values} = parseArgs({options: {output: {type: 'string'}, release: {type: 'boolean'}}})
  const {version} = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {version: string}
  const release = values.release ? {date: new Date().toISOString().slice(0, 10), version} : undefined
  const output = values.output ?? join(repoRoot, 'CHANGELOG.md')
  writeFileSync(output, renderChangelog(readReleases(repoRoot, {release})))
  process.stderr.write(`Wrote ${output}\n`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main()
