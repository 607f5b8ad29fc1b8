import t from 'tap';
import { normalizeBackupCode } from '../lib/backup-codes.js';
import { MAX_CODE_INPUT_LENGTH, readSubmittedCode } from '../lib/code-input.js';

t.test('six digits are a TOTP code, spaces and hyphens ignored', async (t) => {
  t.same(readSubmittedCode('123456'), { ok: true, value: { kind: 'totp', code: '123456' } });
  t.same(readSubmittedCode(' 123 456 '), { ok: true, value: { kind: 'totp', code: '123456' } });
  t.same(readSubmittedCode('123-456'), { ok: true, value: { kind: 'totp', code: '123456' } });
});

t.test('ten Crockford characters are a backup code, normalised', async (t) => {
  t.same(readSubmittedCode('abcde-fghjk'), { ok: true, value: { kind: 'backup_code', code: 'ABCDEFGHJK' } });
});

t.test('a TOTP code as people type and paste it: any space, tab, line break, full-width digits', async (t) => {
  const typed: Array<[string, string]> = [
    ['123\u00a0456', 'no-break space'],
    ['123\u2009456', 'thin space'],
    ['123\u2007456', 'figure space'],
    ['123\u202f456', 'narrow no-break space'],
    ['123\u3000456', 'ideographic space'],
    ['123\t456', 'tab'],
    ['123456\n', 'trailing LF'],
    ['123456\r\n', 'trailing CR LF'],
    ['\u2028123 456\u2029', 'line and paragraph separators'],
    ['１２３４５６', 'full-width digits'],
    ['１２３\u3000４５６', 'full-width digits, ideographic space'],
    ['123\u2013456', 'en dash'],
    ['123\u2212456', 'minus sign'],
    ['123－456', 'full-width hyphen-minus'],
  ];
  for (const [input, name] of typed) {
    t.same(readSubmittedCode(input), { ok: true, value: { kind: 'totp', code: '123456' } }, name);
  }
});

t.test('a backup code as people type and paste it: full-width, dashes of every kind, any space', async (t) => {
  const expected = { ok: true, value: { kind: 'backup_code', code: 'ABCDEFGHJK' } };
  const typed: Array<[string, string]> = [
    ['ＡＢＣＤＥ－ＦＧＨＪＫ', 'full-width letters and hyphen'],
    ['ａｂｃｄｅ\u3000ｆｇｈｊｋ', 'full-width lower case, ideographic space'],
    ['ABCDE\u2013FGHJK', 'en dash'],
    ['ABCDE\u2014FGHJK', 'em dash'],
    ['ABCDE\u2010FGHJK', 'Unicode hyphen'],
    ['ABCDE\u2011FGHJK', 'non-breaking hyphen'],
    ['ABCDE\u2212FGHJK', 'minus sign'],
    ['ABCDE\u00a0FGHJK', 'no-break space'],
    ['ABCDE\u2009FGHJK', 'thin space'],
    ['ABCDE\tFGHJK', 'tab'],
    ['abcde-fghjk\r\n', 'trailing CR LF'],
  ];
  for (const [input, name] of typed) {
    t.same(readSubmittedCode(input), expected, name);
    t.equal(normalizeBackupCode(input), 'ABCDEFGHJK', `normalizeBackupCode: ${name}`);
  }
});

t.test('a space of any kind is never the character a message calls not allowed', async (t) => {
  for (const space of ['\u00a0', '\u2009', '\u3000', '\t', '\n', '\u2028']) {
    const result = readSubmittedCode(`12345${space}`);
    t.equal(result.ok, false);
    if (!result.ok) t.match(result.problem, /6-digit code/, `U+${space.codePointAt(0)!.toString(16).padStart(4, '0')}`);
  }
  const invisible = readSubmittedCode('123\u200b456');
  t.match(!invisible.ok && invisible.problem, /only letters, digits, spaces and hyphens/, 'a zero-width space is not a space');
});

t.test('the length bound holds for the raw input and for what folding makes of it', async (t) => {
  const raw = readSubmittedCode(' '.repeat(MAX_CODE_INPUT_LENGTH) + '123456');
  t.match(!raw.ok && raw.problem, /too long/);
  // U+FDFA folds to 18 characters: four of them are 72 after NFKC.
  const folded = readSubmittedCode('\ufdfa'.repeat(4));
  t.match(!folded.ok && folded.problem, /too long/);
});

t.test('upper-casing cannot make a backup code out of letters outside ASCII', async (t) => {
  t.equal(normalizeBackupCode('ABCDEFGHß'), null, 'ß upper-cases to SS');
  t.equal(normalizeBackupCode('ABCDEFGHJı'), null, 'dotless ı upper-cases to I');
});

t.test('everything else is malformed, with a reason that names the field', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [{ $ne: null }, /token must be a string/],
    [['123456'], /token must be a string/],
    [123456, /token must be a string/],
    [null, /token must be a string/],
    [undefined, /token must be a string/],
    ['', /token is required/],
    ['1'.repeat(10_000), /too long/],
    ['１２３４５', /6-digit code/],
    ['١٢٣٤٥٦', /only letters, digits/],
    ['12345\u0000', /only letters, digits/],
    ['12345', /6-digit code .* or a 10-character backup code/],
    ['1234567', /6-digit code/],
    ['ABCDE-FGHJ', /backup code/],
  ];
  for (const [input, problem] of cases) {
    const result = readSubmittedCode(input);
    t.equal(result.ok, false, JSON.stringify(input)?.slice(0, 40));
    if (!result.ok) t.match(result.problem, problem);
  }
  const named = readSubmittedCode(7, 'code');
  t.match(!named.ok && named.problem, /^code must be a string/);
});
