import type {ErrorObject} from 'ajv'

const article = (word: string) => (/^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`)

/**
 * What a JSON schema complaint means, in words for users: ajv's own wording ("must be equal to one
 * of the allowed values") leaves out what the values are. Never quotes the offending value (it may
 * be a secret).
 */
export function schemaMessage(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'const': {
      return `must be ${JSON.stringify(params.allowedValue)}`
    }

    case 'enum': {
      return `must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')}`
    }

    case 'maximum':
    case 'minimum': {
      return `must be ${error.keyword === 'minimum' ? 'at least' : 'at most'} ${String(params.limit)}`
    }

    case 'maxLength':
    case 'minLength': {
      const limit = Number(params.limit)
      if (error.keyword === 'minLength' && limit === 1) return 'must not be empty'
      return `must be ${error.keyword === 'minLength' ? 'at least' : 'at most'} ${limit} characters long`
    }

    case 'required': {
      return 'is missing'
    }

    case 'type': {
      const types = String(params.type).split(',')
      return `must be ${types.map((type) => article(type === 'integer' ? 'whole number' : type)).join(' or ')}`
    }

    default: {
      return error.message ?? 'is invalid'
    }
  }
}
