/**
 * The one rule of usernames, for registration, the password step and the
 * operator's CLI alike: what registration refuses never names an account
 * anywhere else either. Without it, `'\u212Aim'.toLowerCase()` (a Kelvin sign
 * K, U+212A) is the ASCII `kim`, and a look-alike name signed in to, or was
 * reset by the CLI as, the account it imitates.
 */

export const USERNAME_MIN_LENGTH = 3;
export const USERNAME_MAX_LENGTH = 32;
/** ASCII letters, digits, dot, underscore and hyphen: nothing that looks like another name when displayed. */
export const USERNAME_PATTERN = /^[A-Za-z0-9._-]+$/;

/**
 * What is taken off both ends of a typed name before the rule applies: the
 * space a phone keyboard adds after a word, a tab or line break pasted with
 * it. Only these, so that the documented pattern (`TYPED_USERNAME_PATTERN`)
 * says exactly what is accepted, in any regular-expression dialect.
 */
const SURROUNDING_SPACE = '[ \\t\\r\\n]';
const SURROUNDING_SPACES = new RegExp(`^${SURROUNDING_SPACE}+|${SURROUNDING_SPACE}+$`, 'g');

/** A typed name the rule accepts once trimmed, as the API's document states it. */
export const TYPED_USERNAME_PATTERN = `^${SURROUNDING_SPACE}*[A-Za-z0-9._-]{${USERNAME_MIN_LENGTH},${USERNAME_MAX_LENGTH}}${SURROUNDING_SPACE}*$`;

/**
 * The name as the rule sees it: `typed` without spaces, tabs or line breaks
 * at either end. Every place a person types a name (registration, the
 * password step, the operator's CLI) trims first, so ` alice ` is `alice`
 * everywhere, and counts as `alice` against the password throttle: a space
 * more or less never buys a fresh count. Spaces inside a name stay, and the
 * rule refuses them.
 */
export function trimUsername(typed: string): string {
  return typed.replace(SURROUNDING_SPACES, '');
}

/** What registration says to a name the rule refuses. */
export const USERNAME_RULE_MESSAGE = `Choose a username of ${USERNAME_MIN_LENGTH} to ${USERNAME_MAX_LENGTH} letters, digits, dots, underscores or hyphens`;

/** Whether `username` keeps the rule. */
export function isValidUsername(username: string): boolean {
  return USERNAME_PATTERN.test(username) && username.length >= USERNAME_MIN_LENGTH && username.length <= USERNAME_MAX_LENGTH;
}

/**
 * The key of the account `username` names: lower-cased, so `Alice` and
 * `alice` are one account; `null` for a name the rule refuses, which then
 * names no account. Lower-casing is safe only on the rule's ASCII: beyond
 * it, `toLowerCase` folds look-alikes into the letters they imitate.
 */
export function accountKey(username: string): string | null {
  return isValidUsername(username) ? username.toLowerCase() : null;
}

/**
 * The key the password step counts wrong passwords under, for any name
 * typed: lower-cased, so a look-alike that folds into an account's name
 * (the Kelvin sign) is counted with it and gains no fresh count of its own.
 */
export function throttleKey(username: string): string {
  return username.toLowerCase();
}
