/**
 * What every mpx command owes its users, checked for all of them (commands added later included):
 * a description, a description for each flag and argument, at least two examples, and a topic
 * that `mpx` alone lists with a description.
 */
import {Command, Config} from '@oclif/core'
import {expect} from 'chai'
import {readFileSync} from 'node:fs'

import {repoRoot} from '../../scripts/pack.js'
import {runMpx} from '../support/cli.js'

const packageJson = JSON.parse(readFileSync(`${repoRoot}/package.json`, 'utf8')) as {
  name: string
  oclif: {topics: Record<string, {description?: string}>}
}

/** The lines of one section of oclif's help (`TOPICS`, `COMMANDS`), up to the next blank line. */
function helpSection(help: string, title: string): string[] {
  const lines = help.split('\n')
  const start = lines.indexOf(title)
  if (start === -1) return []
  const end = lines.findIndex((line, index) => index > start && line.trim() === '')
  return lines.slice(start + 1, end === -1 ? undefined : end)
}

describe('command conventions', () => {
  let commands: Command.Loadable[]

  before(async () => {
    // The compiled commands, as the CLI loads them (npm test builds first).
    const config = await Config.load({ignoreManifest: true, root: repoRoot})
    commands = config.commands.filter((command) => command.pluginName === packageJson.name)
  })

  it('finds the commands', () => {
    expect(commands.map((command) => command.id)).to.include.members(['fetch:events', 'fetch:profiles'])
  })

  it('every command has a description and at least two examples', () => {
    for (const command of commands) {
      expect(command.description?.trim(), `${command.id}: description`).to.not.equal(undefined)
      expect(command.description?.trim().length, `${command.id}: description`).to.be.greaterThan(10)
      if (command.hidden) continue
      expect(command.examples?.length ?? 0, `${command.id}: examples`).to.be.at.least(2)
      for (const example of command.examples ?? []) {
        const text = typeof example === 'string' ? example : example.command
        expect(text, `${command.id}: example`).to.match(/<%= config\.bin %>|\bmpx\b/)
      }
    }
  })

  it('every flag (but hidden ones) and argument has a description', () => {
    for (const command of commands) {
      for (const [name, flag] of Object.entries(command.flags)) {
        if (flag.hidden) continue
        expect(flag.description?.trim(), `${command.id} --${name}: description`).to.be.a('string').and.not.equal('')
      }

      for (const [name, arg] of Object.entries(command.args)) {
        expect(arg.description?.trim(), `${command.id} ${name.toUpperCase()}: description`)
          .to.be.a('string')
          .and.not.equal('')
      }
    }
  })

  it('every topic has a description in package.json, and `mpx` alone lists it', async () => {
    const topics = [...new Set(commands.filter((c) => c.id.includes(':')).map((c) => c.id.split(':')[0]))]
    expect(topics).to.include.members(['auth', 'fetch'])
    const result = await runMpx([])
    expect(result.code).to.equal(0)
    const listed = helpSection(result.stdout, 'TOPICS')
    for (const topic of topics) {
      const description = packageJson.oclif.topics[topic]?.description
      expect(description, `oclif.topics.${topic}.description in package.json`).to.be.a('string')
      const line = listed.find((text) => text.trim().startsWith(`${topic} `))
      expect(line, `mpx lists topic ${topic}`).to.be.a('string')
      expect(line).to.include(description)
    }
  })
})
