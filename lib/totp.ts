/**
 * TOTP (RFC 6238) as authenticator apps expect it: SHA-1, six digits, 30 s.
 * otplib does the arithmetic; this file fixes the parameters and turns its
 * results into the time steps the store uses for replay protection.
 */
import { generate, verify } from 'otplib';

export const TOTP_DIGITS = 6;
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_ALGORITHM = 'sha1';
/** Time steps accepted either side of now, for clock drift. */
export const DEFAULT_TOTP_TOLERANCE_STEPS = 1;

/** The outcome of checking a TOTP code; `timeStep` is the RFC 6238 counter it matched. */
export type TotpCheck = { valid: true; timeStep: number } | { valid: false };

/**
 * Throws a `TypeError` naming `name` unless `value` can be one side of the
 * Key URI label `issuer:accountName`. The format takes the first colon, or an
 * encoded `%3A`, as the separator, so a colon inside either part (an issuer
 * such as `https://auth.example.test:8443`) makes apps show a wrong issuer and
 * account, or refuse the code.
 */
export function assertOtpauthLabelPart(value: unknown, name: 'issuer' | 'accountName'): asserts value is string {
  if (typeof value !== 'string' || value.trim() === '') throw new TypeError(`${name} is required: a non-empty string`);
  if (value.includes(':')) {
    throw new TypeError(
      `${name} must not contain ":": the otpauth label is "issuer:account" and authenticator apps split it at the first colon, ` +
        'so they would show the wrong issuer and account',
    );
  }
}

/**
 * The `otpauth://` URL an authenticator app reads from the QR code. Algorithm,
 * digits and period are written out even though they are the defaults:
 * some apps read a missing parameter differently. The issuer is both the
 * label's prefix and the `issuer` parameter, as the Key URI format recommends.
 * A colon in `issuer` or `accountName` throws a `TypeError` naming it.
 */
export function buildOtpauthUrl(options: { secret: string; issuer: string; accountName: string }): string {
  assertOtpauthLabelPart(options.issuer, 'issuer');
  assertOtpauthLabelPart(options.accountName, 'accountName');
  const label = `${encodeURIComponent(options.issuer)}:${encodeURIComponent(options.accountName)}`;
  const parameters = [
    ['secret', options.secret],
    ['issuer', options.issuer],
    ['algorithm', TOTP_ALGORITHM.toUpperCase()],
    ['digits', String(TOTP_DIGITS)],
    ['period', String(TOTP_PERIOD_SECONDS)],
  ].map(([name, value]) => `${name}=${encodeURIComponent(value!)}`);
  return `otpauth://totp/${label}?${parameters.join('&')}`;
}

/** The RFC 6238 time step that contains `at`. */
export function timeStepAt(at: Date): number {
  return Math.floor(at.getTime() / 1000 / TOTP_PERIOD_SECONDS);
}

/** The parameters authenticator apps assume, at the time `at`, in otplib's terms. */
function otpParameters(secret: string, at: Date) {
  return {
    secret,
    algorithm: TOTP_ALGORITHM,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    epoch: Math.floor(at.getTime() / 1000),
  } as const;
}

/** The code an authenticator shows at `at`: for tests, benchmarks and the demo's helpers. */
export function generateTotpCode(secret: string, at: Date = new Date()): Promise<string> {
  return generate(otpParameters(secret, at));
}

/**
 * Checks a six-digit code against `secret` around `at`. Codes from time steps
 * at or before `afterTimeStep` are rejected: they were already used. `code`
 * must already be six digits, and `afterTimeStep` must not lie beyond the
 * window: otplib throws on either, so both are settled here first.
 */
export async function checkTotpCode(options: {
  secret: string;
  code: string;
  at: Date;
  afterTimeStep?: number | undefined;
  toleranceSteps?: number;
}): Promise<TotpCheck> {
  const toleranceSteps = options.toleranceSteps ?? DEFAULT_TOTP_TOLERANCE_STEPS;
  // A step already used at or past the window's end (another instance's clock ran ahead,
  // the clock stepped back, the tolerance shrank) leaves no step that could still be accepted.
  if (options.afterTimeStep !== undefined && options.afterTimeStep >= timeStepAt(options.at) + toleranceSteps) {
    return { valid: false };
  }
  const result = await verify({
    ...otpParameters(options.secret, options.at),
    token: options.code,
    epochTolerance: toleranceSteps * TOTP_PERIOD_SECONDS,
    ...(options.afterTimeStep === undefined ? {} : { afterTimeStep: options.afterTimeStep }),
  });
  if (!result.valid || !('timeStep' in result)) return { valid: false };
  return { valid: true, timeStep: result.timeStep };
}
