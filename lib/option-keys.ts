/**
 * Refuses option names a constructor does not know. In plain JavaScript a misspelled
 * option (`tokenFeild`, `throttle.lockAfterFailure`) would otherwise be ignored without
 * a word, and its default (a different field, a weaker lockout) used instead.
 */

/** A spelling this close to a known name is named in the error as the likely meaning. */
const MAX_SUGGESTION_DISTANCE = 2;

/**
 * Throws a `TypeError` naming the first key of `options` that is not in `known`, the
 * nearest known name when one is close, and every known name.
 *
 * @param owner what the options belong to, e.g. `MfaStore` or `MfaStore throttle`
 */
export function assertKnownOptionKeys(options: object, known: readonly string[], owner: string): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const nearest = nearestName(key, known);
    throw new TypeError(
      `${owner} has no option "${key}"${nearest ? ` (did you mean "${nearest}"?)` : ''}; its options are ${known.join(', ')}`,
    );
  }
}

function nearestName(key: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(key.toLowerCase(), name.toLowerCase());
    if (distance <= MAX_SUGGESTION_DISTANCE && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** Levenshtein distance: insertions, deletions and substitutions, one each. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** What kind of value a wrong option was, in words, never its content (it may be a secret). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
