/**
 * JSON Schemas of the request bodies. Fastify checks them before a handler
 * runs, with type coercion off: a token that is not a short string is a 400
 * before any database or hashing work.
 */
import { MAX_CODE_INPUT_LENGTH } from '../../lib/index.js';
import { LOGIN_USERNAME_MAX_LENGTH, PASSWORD_MAX_LENGTH, USERNAME_MAX_LENGTH } from '../accounts/accounts.js';

const username = { type: 'string', minLength: 1, maxLength: LOGIN_USERNAME_MAX_LENGTH } as const;
const password = { type: 'string', minLength: 1, maxLength: PASSWORD_MAX_LENGTH } as const;
const token = { type: 'string', minLength: 1, maxLength: MAX_CODE_INPUT_LENGTH } as const;
/** The hidden field of the HTML forms; its value is checked by @fastify/csrf-protection. */
const csrf = { type: 'string', maxLength: 256 } as const;

export interface CredentialsBody {
  username: string;
  password: string;
}

export interface TokenBody {
  token: string;
}

/** A form that changes the second factor: a code and the form's one-time id. */
export interface CodeChangeBody extends TokenBody {
  formId: string;
}

export const credentialsBody = {
  type: 'object',
  required: ['username', 'password'],
  additionalProperties: false,
  properties: { username, password },
} as const;

export const registrationBody = {
  ...credentialsBody,
  properties: { username: { ...username, maxLength: USERNAME_MAX_LENGTH }, password },
} as const;

export const tokenBody = {
  type: 'object',
  required: ['token'],
  additionalProperties: false,
  properties: { token },
} as const;

export const emptyBody = { type: 'object', additionalProperties: false, properties: {} } as const;

/** The same shapes as HTML form posts, which also carry the CSRF token. */
export const credentialsForm = { ...credentialsBody, properties: { ...credentialsBody.properties, _csrf: csrf } } as const;
export const registrationForm = { ...registrationBody, properties: { ...registrationBody.properties, _csrf: csrf } } as const;
export const tokenForm = { ...tokenBody, properties: { ...tokenBody.properties, _csrf: csrf } } as const;
export const emptyForm = { ...emptyBody, properties: { _csrf: csrf } } as const;
/** 128 random bits, base64url, as `generateFormId` makes them. */
const formId = { type: 'string', pattern: '^[A-Za-z0-9_-]{22}$' } as const;
export const codeChangeForm = { ...tokenForm, required: ['token', 'formId'], properties: { ...tokenForm.properties, formId } } as const;
