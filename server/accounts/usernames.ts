/** How a typed username becomes the key of an account. */

/**
 * The key a username is found and counted under: lower-cased, so `Alice` and
 * `alice` are one account and one throttle bucket.
 */
export function usernameKey(username: string): string {
  return username.toLowerCase();
}
