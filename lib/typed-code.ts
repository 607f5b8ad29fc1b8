/**
 * What a person's typing or pasting adds to a code and that must not count:
 * full-width and other compatibility forms of digits and letters (an IME, a
 * phone keyboard), and the spaces, line breaks and dashes that separate
 * groups (copied from a PDF, an authenticator app, a password manager).
 */

/**
 * Characters that only separate groups of a code: every Unicode space
 * separator (`\p{Zs}`: the ordinary space, the no-break space U+00A0, the thin
 * space U+2009, the figure space U+2007, U+202F, the ideographic space
 * U+3000, ...), tab, CR, LF, the line and paragraph separators U+2028 and
 * U+2029, the hyphen-minus, the Unicode hyphens and dashes U+2010 to U+2015,
 * and the minus sign U+2212.
 */
const CODE_SEPARATORS = /[\p{Zs}\t\r\n\u2028\u2029\-\u2010-\u2015\u2212]/gu;

/**
 * Folds `input` with NFKC, so full-width `１２３` and `ＡＢＣ` become ASCII.
 * The result can be longer than the input (a ligature becomes its letters).
 */
export function foldTypedCode(input: string): string {
  return input.normalize('NFKC');
}

/** Removes every separator from an already folded code: what is left is what the person meant. */
export function removeCodeSeparators(folded: string): string {
  return folded.replace(CODE_SEPARATORS, '');
}
