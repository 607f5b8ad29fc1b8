import fc from 'fast-check';
import t from 'tap';
import {
  BACKUP_CODE_ENTROPY_BITS,
  CROCKFORD_ALPHABET,
  formatBackupCode,
  generateBackupCode,
  normalizeBackupCode,
} from '../lib/backup-codes.js';

const DISPLAY_FORMAT = /^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/;

t.test('codes are two groups of five Crockford base32 characters: 50 bits', async (t) => {
  t.equal(CROCKFORD_ALPHABET.length, 32);
  t.equal(BACKUP_CODE_ENTROPY_BITS, 50);
  for (let i = 0; i < 1000; i++) t.match(generateBackupCode(), DISPLAY_FORMAT);
});

t.test('20,000 generated codes are all distinct and use every character evenly', async (t) => {
  const codes = Array.from({ length: 20_000 }, generateBackupCode);
  t.equal(new Set(codes).size, codes.length);
  const counts = new Map<string, number>();
  for (const code of codes) for (const char of code.replace('-', '')) counts.set(char, (counts.get(char) ?? 0) + 1);
  t.equal(counts.size, 32, 'all 32 characters appear');
  const expected = (codes.length * 10) / 32;
  for (const [char, count] of counts) {
    t.ok(Math.abs(count - expected) < expected * 0.1, `${char} appears ${count} times, about ${expected}`);
  }
});

const codeArbitrary = fc.string({ unit: fc.constantFrom(...CROCKFORD_ALPHABET), minLength: 10, maxLength: 10 });

t.test('case, spaces and hyphens do not matter', async () => {
  fc.assert(
    fc.property(codeArbitrary, fc.array(fc.constantFrom(' ', '-', '  '), { maxLength: 10 }), fc.boolean(), (code, separators, lower) => {
      let typed = '';
      [...code].forEach((char, i) => (typed += char + (separators[i] ?? '')));
      if (lower) typed = typed.toLowerCase();
      return normalizeBackupCode(typed) === code;
    }),
  );
});

t.test('look-alike letters read as the digits they resemble', async (t) => {
  t.equal(normalizeBackupCode('O1234-56789'), '0123456789');
  t.equal(normalizeBackupCode('il234-56789'), '1123456789');
});

t.test('the display form normalises back to the code', async () => {
  fc.assert(fc.property(codeArbitrary, (code) => normalizeBackupCode(formatBackupCode(code)) === code));
});

t.test('anything else is not a backup code', async (t) => {
  for (const input of ['', 'ABCDE-FGHJ', 'ABCDE-FGHJKM', 'ABCDE-FGHJU', 'ABCDE_FGHJK', 'ÀBCDE-FGHJK']) {
    t.equal(normalizeBackupCode(input), null, JSON.stringify(input));
  }
});
