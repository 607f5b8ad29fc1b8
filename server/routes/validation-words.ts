/**
 * A request that does not fit its route's schema, in words a person can act
 * on: "The code must be text", "Username is required", "The remembered
 * browser's id is not valid", instead of the validator's `body/token must be
 * string`. Every route's schema ends here (the error handler calls it), so a
 * new field only needs its words in `FIELD_WORDS`; one without them is named
 * as it is spelt. The words never quote a value the client sent.
 */
import type { FastifySchemaValidationError } from 'fastify';

/** The stable, machine-readable side of every such answer: `reason` beside the words. */
export const INVALID_REQUEST_REASON = 'invalid_request';

/** What a schema refusal answers: the words, and the field they are about when there is one. */
export interface ValidationAnswer {
  message: string;
  /** The top-level field, parameter or query parameter at fault, as the request spells it. */
  field?: string;
}

/** Fields in words, by where they travel; each starts a sentence. */
const FIELD_WORDS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  body: {
    username: 'Username',
    password: 'Password',
    currentPassword: 'The current password',
    newPassword: 'The new password',
    token: 'The code',
    rememberBrowser: 'The choice to remember this browser (rememberBrowser)',
    ids: 'The list of notice ids',
    notices: 'The list of notices',
    deviceId: "The remembered browser's id",
    formId: "The form's id",
    twin: "The form's twin key",
    _csrf: "The form's security token",
  },
  params: { id: "The remembered browser's id" },
  querystring: { until: 'The end of the wait', kind: 'The kind of wait', back: 'The page to go back to' },
};

/** Where a field without words travels, to name it. */
const PART_WORDS: Readonly<Record<string, string>> = {
  body: 'The field',
  params: 'The address part',
  querystring: 'The query parameter',
  headers: 'The header',
};

/** What a value was expected to be, for a `type` refusal. */
const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'must be text',
  boolean: 'must be true or false',
  array: 'must be a list',
  object: 'must be a JSON object',
  integer: 'must be a whole number',
  number: 'must be a number',
  null: 'must be null',
};

/** A name safe to repeat: short and plain, so the answer never echoes anything else the client sent. */
const PLAIN_NAME = /^[A-Za-z0-9_-]{1,64}$/;

function fieldWords(part: string, name: string): string {
  return FIELD_WORDS[part]?.[name] ?? `${PART_WORDS[part] ?? 'The field'} ${name}`;
}

function characters(count: number): string {
  return `${count} ${count === 1 ? 'character' : 'characters'}`;
}

/** The whole of a part: the body (or the query string) itself is not an object, or lacks something. */
function wholePartWords(part: string): string {
  return part === 'body' ? 'The request body' : part === 'querystring' ? 'The query string' : PART_WORDS[part] ?? 'The request';
}

/**
 * The first refusal in words (Fastify's validator stops at the first), and the
 * field it names. `part` is Fastify's `validationContext`: body, params,
 * querystring or headers.
 *
 * @example
 * describeValidationError([{ keyword: 'type', instancePath: '/token', schemaPath: '', params: { type: 'string' } }], 'body');
 * // { message: 'The code must be text', field: 'token' }
 */
export function describeValidationError(errors: readonly FastifySchemaValidationError[], part = 'body'): ValidationAnswer {
  const error = errors[0];
  if (!error) return { message: `${wholePartWords(part)} is not valid` };
  const path = error.instancePath.split('/').slice(1);
  const top = path[0];

  if (error.keyword === 'required') {
    const name = String(error.params.missingProperty);
    return { message: `${fieldWords(part, name)} is required`, field: name };
  }
  if (error.keyword === 'additionalProperties') {
    const name = String(error.params.additionalProperty);
    const unexpected = `${wholePartWords(part)} has ${part === 'querystring' ? 'a parameter' : 'a field'} this request does not take`;
    // A key can be anything the client typed: only a short plain name is repeated.
    return PLAIN_NAME.test(name) ? { message: `${unexpected}: ${name}`, field: name } : { message: unexpected };
  }

  const subject = top === undefined ? wholePartWords(part) : path.length > 1 ? `An item of ${fieldWords(part, top).replace(/^The /, 'the ')}` : fieldWords(part, top);
  const field = top === undefined ? {} : { field: top };
  const limit = Number(error.params.limit);
  switch (error.keyword) {
    case 'type':
      return { message: `${subject} ${TYPE_WORDS[String(error.params.type)] ?? 'is not of the right kind'}`, ...field };
    case 'minLength':
      return { message: limit <= 1 ? `${subject} must not be empty` : `${subject} must be at least ${characters(limit)}`, ...field };
    case 'maxLength':
      return { message: `${subject} must be at most ${characters(limit)}`, ...field };
    case 'minItems':
      return { message: `${subject} must hold at least ${limit}`, ...field };
    case 'maxItems':
      return { message: `${subject} must hold at most ${limit}`, ...field };
    case 'uniqueItems':
      return { message: `${subject} holds the same item twice`, ...field };
    default:
      // pattern, enum, const, format: the value is of no shape this route takes.
      return { message: `${subject} is not valid`, ...field };
  }
}
