/**
 * JSON Schemas of the JSON API, its contract. Request bodies: Fastify checks
 * them before a handler runs, with type coercion off, so a token that is not a
 * short string is a 400 before any database or hashing work. Answers: Fastify
 * serializes each through its status's schema (a field missing here would be
 * dropped), and @fastify/swagger publishes both in `/openapi.json`.
 */
import { MAX_CODE_INPUT_LENGTH } from '../../lib/index.js';
import {
  LOGIN_USERNAME_MAX_LENGTH,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  USERNAME_MAX_LENGTH,
  USERNAME_MIN_LENGTH,
} from '../accounts/accounts.js';
import { TYPED_USERNAME_PATTERN } from '../accounts/usernames.js';
import { BCRYPT_MAX_PASSWORD_BYTES } from '../app/crypto.js';

const username = { type: 'string', minLength: 1, maxLength: LOGIN_USERNAME_MAX_LENGTH } as const;
const password = { type: 'string', minLength: 1, maxLength: PASSWORD_MAX_LENGTH } as const;
const token = { type: 'string', minLength: 1, maxLength: MAX_CODE_INPUT_LENGTH } as const;
/** A remembered browser's public id, as `rememberDevice` makes them. */
const deviceId = { type: 'string', pattern: '^[A-Za-z0-9_-]{16}$' } as const;
/** The hidden field of the HTML forms; its value is checked by @fastify/csrf-protection. */
const csrf = { type: 'string', maxLength: 256 } as const;

export interface CredentialsBody {
  username: string;
  password: string;
}

export interface TokenBody {
  token: string;
}

/** The second factor of a sign-in: the code, and whether to remember this browser. */
export interface SecondFactorBody extends TokenBody {
  rememberBrowser?: boolean;
}

/** The same, as the HTML form posts it: a ticked checkbox sends `rememberBrowser=yes`, an unticked one nothing. */
export interface SecondFactorFormBody extends TokenBody {
  rememberBrowser?: 'yes';
  twin?: string;
  /** The username the code page was shown for (it says "Signing in as ..."). */
  account?: string;
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

/** The login's bounds: the name is trimmed before its rules apply, so `'a'.repeat(32) + ' '` registers. */
export const registrationBody = credentialsBody;

export const tokenBody = {
  type: 'object',
  required: ['token'],
  additionalProperties: false,
  properties: { token },
} as const;

export const secondFactorBody = {
  ...tokenBody,
  properties: {
    ...tokenBody.properties,
    rememberBrowser: {
      type: 'boolean',
      description: 'true: on success, skip the second factor in this browser for 30 days (the mfa_device cookie)',
    },
  },
} as const;

/**
 * The registration rules as `/openapi.json` states them. Fastify checks only
 * the bounds of `registrationBody`; `Accounts.register` checks the rest, to
 * answer in words a person can act on rather than in a validator's. The
 * document states them all, so that a client (and Schemathesis) knows what
 * registers; what breaks them is a 400 either way.
 */
export const documentedRegistrationBody = {
  ...registrationBody,
  properties: {
    username: {
      type: 'string',
      minLength: USERNAME_MIN_LENGTH,
      maxLength: LOGIN_USERNAME_MAX_LENGTH,
      pattern: TYPED_USERNAME_PATTERN,
      description: `${USERNAME_MIN_LENGTH} to ${USERNAME_MAX_LENGTH} letters, digits, dots, underscores or hyphens; spaces, tabs and line breaks at either end are removed first (the answer gives the name kept)`,
    },
    password: {
      type: 'string',
      minLength: PASSWORD_MIN_LENGTH,
      maxLength: BCRYPT_MAX_PASSWORD_BYTES,
      description: `At most ${BCRYPT_MAX_PASSWORD_BYTES} bytes in UTF-8: bcrypt would ignore the rest`,
    },
  },
} as const;

/** A password change: the current password, and the new one. */
export interface PasswordChangeBody {
  currentPassword: string;
  newPassword: string;
}

/** Fastify checks the bounds; `Accounts.changePassword` the rules of a new password, in words. */
export const passwordChangeBody = {
  type: 'object',
  required: ['currentPassword', 'newPassword'],
  additionalProperties: false,
  properties: { currentPassword: password, newPassword: password },
} as const;

/** The same as `/openapi.json` states it, with the rules of a new password (see `documentedRegistrationBody`). */
export const documentedPasswordChangeBody = {
  ...passwordChangeBody,
  properties: {
    currentPassword: { ...password, description: 'The password the user signs in with now' },
    newPassword: documentedRegistrationBody.properties.password,
  },
} as const;

export const emptyBody = { type: 'object', additionalProperties: false, properties: {} } as const;

/**
 * Logout's: whatever JSON comes is ignored, and an empty body is fine too. It
 * is there for the document: OpenAPI has no way to require `Content-Type:
 * application/json` but through a request body, so logout declares one.
 */
export const anyJsonBody = {
  description: 'Ignored: {} will do. An empty body is accepted too, as long as the request says Content-Type: application/json',
} as const;

/** The same shapes as HTML form posts, which also carry the CSRF token. */
export const credentialsForm = { ...credentialsBody, properties: { ...credentialsBody.properties, _csrf: csrf } } as const;
export const registrationForm = { ...registrationBody, properties: { ...registrationBody.properties, _csrf: csrf } } as const;
export const tokenForm = { ...tokenBody, properties: { ...tokenBody.properties, _csrf: csrf } } as const;
/** A second-factor form's twin key (see server/login/login-forwarding.ts): 128 random bits, base64url. */
const twin = { type: 'string', pattern: '^[A-Za-z0-9_-]{22}$' } as const;
export const secondFactorForm = { ...tokenForm, properties: { ...tokenForm.properties, rememberBrowser: { type: 'string', const: 'yes' }, twin, account: username } } as const;
/** When the account page that holds the form was rendered, in ms (server/views/page-shown-at.ts); optional, as only that page's forms carry it. */
const shownAt = { type: 'string', pattern: '^[0-9]{1,16}$' } as const;
export const emptyForm = { ...emptyBody, properties: { _csrf: csrf, shownAt } } as const;
export const passwordChangeForm = { ...passwordChangeBody, properties: { ...passwordChangeBody.properties, _csrf: csrf, shownAt } } as const;
/** 128 random bits, base64url, as `generateFormId` makes them. */
const formId = { type: 'string', pattern: '^[A-Za-z0-9_-]{22}$' } as const;
/** The forms that forget remembered browsers: one (by its id) or all. */
export const forgetBrowserForm = { type: 'object', required: ['deviceId'], additionalProperties: false, properties: { _csrf: csrf, shownAt, deviceId } } as const;
export interface ForgetBrowserBody {
  deviceId: string;
}
/** The security notices an acknowledgment names: their ids, as the activity gives them. */
const noticeIds = { type: 'array', minItems: 1, maxItems: 200, uniqueItems: true, items: { type: 'string', pattern: '^[0-9a-f]{24}$' } } as const;
export const acknowledgeNoticesBody = { type: 'object', required: ['ids'], additionalProperties: false, properties: { ids: noticeIds } } as const;
export interface AcknowledgeNoticesBody {
  ids: string[];
}
/** The same as the account page's form posts it: the ids in one field, a space between them. */
export const acknowledgeNoticesForm = {
  type: 'object',
  required: ['notices'],
  additionalProperties: false,
  properties: { _csrf: csrf, shownAt, notices: { type: 'string', maxLength: 200 * 25, pattern: '^[0-9a-f]{24}( [0-9a-f]{24})*$' } },
} as const;
export interface AcknowledgeNoticesFormBody {
  notices: string;
}
export const codeChangeForm = { ...tokenForm, required: ['token', 'formId'], properties: { ...tokenForm.properties, formId } } as const;

/** `$id` of the one shape of every JSON error, registered once with `addSchema` (see `registerOpenApi`). */
export const JSON_ERROR_SCHEMA_ID = 'JsonError';

/** `{ error }`, plus `retryAfterSeconds` on a 429 or a busy 503, and `reason` and `field` on a schema's 400: `sendJsonError` in `server/app/json-errors.ts`. */
export const jsonErrorSchema = {
  $id: JSON_ERROR_SCHEMA_ID,
  type: 'object',
  description: 'Every error of the API: a message for a person, and on a 429 (or a 503 of a busy process) the wait',
  required: ['error'],
  properties: {
    error: { type: 'string', description: 'What went wrong, in words a person can act on' },
    retryAfterSeconds: { type: 'integer', minimum: 1, description: 'On a 429, or a 503 of a process busy checking passwords: seconds until a new attempt may succeed, as in Retry-After' },
    reason: { type: 'string', description: 'For programs, stable where `error` is worded for people: invalid_request when the request does not fit the schema' },
    field: { type: 'string', description: 'With invalid_request: the body field, path parameter or query parameter at fault, as the request spells it (absent when the body as a whole is wrong)' },
  },
} as const;

/** An error answer of one route, in the shared shape; `description` says when it happens there. */
export function errorResponse(description: string) {
  return { description, $ref: `${JSON_ERROR_SCHEMA_ID}#` } as const;
}

/** A 429: the shared error shape, and the wait in `Retry-After` as well as in the body. */
export function tooManyRequestsResponse(description: string) {
  return {
    ...errorResponse(description),
    headers: { 'Retry-After': { type: 'integer', minimum: 1, description: 'Seconds to wait, the same number as retryAfterSeconds' } },
  } as const;
}

/** Any route that reads the database: an outage is a 503 (`server/routes/error-handler.ts`). */
export const databaseUnavailableResponse = {
  503: errorResponse('MongoDB is unreachable; nothing was changed, try again in a moment'),
} as const;

/**
 * A route whose work includes bcrypt: a 503 also when the process has as
 * many passwords to hash or check as it takes (`WorkLimiter`), then with
 * `Retry-After`, and nothing counted against the account.
 */
export const passwordWorkResponse = {
  503: {
    ...errorResponse(
      'MongoDB is unreachable, or the process is busy checking other passwords (then with Retry-After); nothing was changed or counted, try again in a moment',
    ),
    headers: { 'Retry-After': { type: 'integer', minimum: 1, description: 'When the process is busy: seconds to wait, the same number as retryAfterSeconds' } },
  },
} as const;

/**
 * The answers every `POST` of the API can give before its handler runs: a
 * body that is not JSON or too large, a request without `Content-Type:
 * application/json` (the CSRF defence of `requireJsonContentType`), and a
 * database outage.
 */
export const postFailureResponses = {
  400: errorResponse('The body is not valid JSON, or does not fit the schema (unknown fields included)'),
  413: errorResponse('The body is larger than 16 KiB'),
  415: errorResponse('The request does not say Content-Type: application/json (required even without a body)'),
  ...databaseUnavailableResponse,
} as const;

/** Answers of the routes that need a full login: a pending second factor is not enough. */
export const signInRequiredResponse = { 401: errorResponse('Not signed in (a login still owing its second factor is not enough)') } as const;

/** How the second factor was passed. */
const verificationMethod = { type: 'string', enum: ['totp', 'backup_code'] } as const;
const backupCodeCount = { type: 'integer', minimum: 0 } as const;
const backupCodes = {
  type: 'object',
  required: ['backupCodes'],
  properties: { backupCodes: { type: 'array', minItems: 1, items: { type: 'string' }, description: 'Shown this once; each works one time' } },
} as const;

export const registeredResponse = {
  type: 'object',
  required: ['username', 'authenticated'],
  properties: {
    username: { type: 'string', description: 'The name as kept: without the spaces typed around it' },
    authenticated: { type: 'boolean', description: 'Signed in as the new user (false only if the password changed at once; then POST /api/login)' },
  },
} as const;

export const passwordStepResponse = {
  type: 'object',
  required: ['authenticated', 'mfaRequired'],
  properties: {
    authenticated: { type: 'boolean', description: 'Signed in: two-factor sign-in is off for this user' },
    mfaRequired: { type: 'boolean', description: 'The session now waits for POST /api/login/mfa' },
  },
} as const;

export const secondFactorResponse = {
  type: 'object',
  required: ['authenticated', 'method', 'remainingBackupCodes', 'lowOnBackupCodes'],
  properties: {
    authenticated: { type: 'boolean', const: true },
    method: verificationMethod,
    remainingBackupCodes: backupCodeCount,
    lowOnBackupCodes: { type: 'boolean' },
    browserRemembered: { type: 'boolean', description: 'Only when rememberBrowser was true: this browser now skips the second factor (false if it could not be remembered)' },
  },
} as const;

const dateTime = { type: 'string', format: 'date-time' } as const;

export const deviceParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { ...deviceId, description: 'The id GET /api/mfa/devices lists' } },
} as const;

export interface DeviceParams {
  id: string;
}

export const devicesResponse = {
  type: 'object',
  required: ['devices'],
  properties: {
    devices: {
      type: 'array',
      description: 'Browsers that skip the second factor, newest first; expired ones are left out',
      items: {
        type: 'object',
        required: ['id', 'label', 'createdAt', 'lastUsedAt', 'expiresAt', 'current'],
        properties: {
          id: deviceId,
          label: { type: 'string', description: 'Browser and system, from its User-Agent: "Firefox on Linux"' },
          createdAt: dateTime,
          lastUsedAt: { type: ['string', 'null'], format: 'date-time', description: 'When it last skipped the second factor; null if never' },
          expiresAt: dateTime,
          current: { type: 'boolean', description: 'The browser that sent this request' },
        },
      },
    },
  },
} as const;

export const currentUserResponse = {
  type: 'object',
  required: ['username', 'mfa'],
  properties: {
    username: { type: 'string' },
    mfa: {
      type: 'object',
      required: ['enabled', 'remainingBackupCodes', 'lowOnBackupCodes'],
      properties: { enabled: { type: 'boolean' }, remainingBackupCodes: backupCodeCount, lowOnBackupCodes: { type: 'boolean' } },
    },
  },
} as const;

export const setupStartResponse = {
  type: 'object',
  required: ['otpauthUrl', 'qrCodeDataUrl', 'secret'],
  properties: {
    otpauthUrl: { type: 'string', pattern: '^otpauth://totp/', description: 'The Key URI an authenticator app reads' },
    qrCodeDataUrl: { type: 'string', pattern: '^data:image/png;base64,', description: 'The same URI as a QR code' },
    secret: { type: 'string', pattern: '^[A-Z2-7]+=*$', description: 'The key in base32, for typing it in' },
  },
} as const;

export const backupCodesResponse = backupCodes;

export const passwordChangedResponse = {
  type: 'object',
  required: ['forgottenBrowsers', 'signedOutSessions'],
  properties: {
    forgottenBrowsers: { type: 'integer', minimum: 0, description: 'How many remembered browsers were forgotten: each is asked for a code at its next sign-in' },
    signedOutSessions: { type: 'integer', minimum: 0, description: 'How many other sessions of the user were signed out: each must sign in again, with the new password' },
  },
} as const;

export const mfaOffResponse = { type: 'object', required: ['enabled'], properties: { enabled: { type: 'boolean', const: false } } } as const;

export const healthResponse = { type: 'object', required: ['ok'], properties: { ok: { type: 'boolean', const: true } } } as const;

/** `GET /readyz` when ready. */
export const readyResponse = { type: 'object', required: ['ready'], properties: { ready: { type: 'boolean', const: true } } } as const;

/** `GET /api/me/activity`: the activity's lines, in words and with where they came from, and this session's notices. */
/** Which page of the activity: without `before`, the latest; with it, the one after that point (the route reads it, and words a malformed one). */
export const activityQuery = {
  type: 'object',
  properties: {
    before: { type: 'string', description: 'The `older` of the page before: `<milliseconds>-<event id>`, e.g. 1765119242352-6650f0c2a1b2c3d4e5f60718' },
  },
} as const;

export const activityResponse = {
  type: 'object',
  required: ['events', 'notices'],
  properties: {
    older: { type: 'string', description: 'Only when older events exist: the `before` that lists the next 20 lines' },
    events: {
      type: 'array',
      description: 'Notice events not yet acknowledged first (pinned, newest first, however old), then the latest 20 lines of the rest, newest first',
      items: {
        type: 'object',
        required: ['type', 'at', 'description', 'pinned', 'count'],
        properties: {
          type: { type: 'string', description: 'What happened, for programs: signed_in, locked, backup_codes_regenerated, device_remembered, admin_reset, ...' },
          at: { type: 'string', format: 'date-time', description: 'When; for a grouped line, the latest' },
          description: { type: 'string', description: 'What happened, for people: "Signed in with a backup code, 7 left"' },
          ip: { type: 'string', description: 'The client address of the request, when it came from one' },
          userAgent: { type: 'string', description: 'Its User-Agent header, cut at 256 characters' },
          browser: { type: 'string', description: 'That header in a few words: "Firefox on Linux"' },
          pinned: { type: 'boolean', description: 'A notice event not yet acknowledged: listed first until it is' },
          count: { type: 'integer', minimum: 1, description: 'How many events the line stands for: more than 1 for sign-ins in a row on one remembered browser' },
          firstAt: { type: 'string', format: 'date-time', description: 'When the first of a grouped line happened (only when count is more than 1)' },
        },
      },
    },
    notices: {
      type: 'array',
      description: 'The security notices not yet acknowledged that this session is warned about, oldest first: never those this session or its remembered browser caused',
      items: {
        type: 'object',
        required: ['id', 'type', 'at', 'description', 'acknowledgeable'],
        properties: {
          id: { type: 'string', pattern: '^[0-9a-f]{24}$', description: 'What POST /api/me/notices/acknowledge names it by' },
          type: { type: 'string' },
          at: { type: 'string', format: 'date-time' },
          description: { type: 'string' },
          ip: { type: 'string' },
          userAgent: { type: 'string' },
          browser: { type: 'string' },
          acknowledgeable: {
            type: 'boolean',
            description: 'This session may acknowledge it: it signed in with the authenticator app, or before the event (and caused no notice itself)',
          },
        },
      },
    },
  },
} as const;

/** `POST /api/me/notices/acknowledge`. */
export const noticesAcknowledgedResponse = {
  type: 'object',
  required: ['acknowledged'],
  properties: {
    acknowledged: { type: 'integer', minimum: 0, description: 'How many notices this request acknowledged: 0 when they already were (another tab)' },
  },
} as const;
