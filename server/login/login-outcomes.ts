/**
 * How this request's login step ended, kept beside the request for whatever
 * reports on it once the answer is out (the metrics). Only fixed words: the
 * kind of code and the outcome, never the code, the user or the name.
 */
import type { FastifyRequest } from 'fastify';
import { readSubmittedCode, type MfaFailureInfo, type MfaSuccessInfo } from '../../lib/index.js';
import type { PasswordStepOutcome, SecondFactorMethod, SecondFactorOutcome } from '../app/metrics.js';
import { isDatabaseOutage } from '../app/database-outages.js';
import { RateLimitedError, ServerBusyError } from '../app/errors.js';

export interface SecondFactorNote {
  method: SecondFactorMethod;
  outcome: SecondFactorOutcome;
}

const secondFactorNotes = new WeakMap<FastifyRequest, SecondFactorNote>();
const passwordStepNotes = new WeakMap<FastifyRequest, PasswordStepOutcome>();

/** The kind of code the request sent, as the strategy reads it. */
function methodOf(request: FastifyRequest): SecondFactorMethod {
  const read = readSubmittedCode((request.body as Record<string, unknown> | undefined)?.token);
  return read.ok ? read.value.kind : 'unknown';
}

/** Notes how the second factor of this request ended: a success (`info`), a failure, or an error thrown on. */
export function noteSecondFactor(request: FastifyRequest, ended: { info: MfaSuccessInfo } | { failure: MfaFailureInfo } | { error: unknown }): void {
  let outcome: SecondFactorOutcome;
  if ('info' in ended) outcome = ended.info.resumed ? 'resumed' : 'accepted';
  else if ('failure' in ended) outcome = ended.failure.reason;
  else outcome = 'error';
  secondFactorNotes.set(request, { method: methodOf(request), outcome });
}

/** Notes how this request's password step ended: its result, or what the error thrown on says. */
export function notePasswordStep(request: FastifyRequest, ended: { result: PasswordStepOutcome } | { error: unknown }): void {
  if ('result' in ended) {
    passwordStepNotes.set(request, ended.result);
    return;
  }
  const { error } = ended;
  const outcome: PasswordStepOutcome =
    error instanceof RateLimitedError ? 'throttled' : error instanceof ServerBusyError ? 'busy' : isDatabaseOutage(error) ? 'unavailable' : 'error';
  passwordStepNotes.set(request, outcome);
}

export function secondFactorNoteOf(request: FastifyRequest): SecondFactorNote | undefined {
  return secondFactorNotes.get(request);
}

export function passwordStepNoteOf(request: FastifyRequest): PasswordStepOutcome | undefined {
  return passwordStepNotes.get(request);
}
