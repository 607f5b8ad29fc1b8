import t from 'tap';
import { readSubmittedCode } from '../lib/code-input.js';

t.test('six digits are a TOTP code, spaces and hyphens ignored', async (t) => {
  t.same(readSubmittedCode('123456'), { ok: true, value: { kind: 'totp', code: '123456' } });
  t.same(readSubmittedCode(' 123 456 '), { ok: true, value: { kind: 'totp', code: '123456' } });
  t.same(readSubmittedCode('123-456'), { ok: true, value: { kind: 'totp', code: '123456' } });
});

t.test('ten Crockford characters are a backup code, normalised', async (t) => {
  t.same(readSubmittedCode('abcde-fghjk'), { ok: true, value: { kind: 'backup_code', code: 'ABCDEFGHJK' } });
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
    ['１２３４５６', /only letters, digits/],
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
