import t from 'tap';
import { encodeBase32 } from '../lib/crypto.js';
import { checkTotpCode, generateTotpCode, timeStepAt } from '../lib/totp.js';

// RFC 6238 appendix B, SHA-1 rows: the key is the ASCII "12345678901234567890".
// The RFC prints 8-digit codes; a 6-digit code is the same number modulo 10^6.
const RFC_SECRET = encodeBase32(Buffer.from('12345678901234567890', 'ascii'));
const VECTORS: Array<[seconds: number, eightDigits: string]> = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

t.test('generates the RFC 6238 SHA-1 codes', async (t) => {
  for (const [seconds, eightDigits] of VECTORS) {
    t.equal(await generateTotpCode(RFC_SECRET, new Date(seconds * 1000)), eightDigits.slice(2), `T = ${seconds}`);
  }
});

t.test('accepts each RFC code at its time and reports its time step', async (t) => {
  for (const [seconds, eightDigits] of VECTORS) {
    const at = new Date(seconds * 1000);
    const check = await checkTotpCode({ secret: RFC_SECRET, code: eightDigits.slice(2), at });
    t.same(check, { valid: true, timeStep: timeStepAt(at) }, `T = ${seconds}`);
  }
});

t.test('accepts one step of drift either way and nothing further', async (t) => {
  const at = new Date(1234567890 * 1000);
  const code = '005924';
  t.ok((await checkTotpCode({ secret: RFC_SECRET, code, at: new Date(at.getTime() + 30_000) })).valid, 'one step late');
  t.ok((await checkTotpCode({ secret: RFC_SECRET, code, at: new Date(at.getTime() - 30_000) })).valid, 'one step early');
  t.notOk((await checkTotpCode({ secret: RFC_SECRET, code, at: new Date(at.getTime() + 90_000) })).valid, 'three steps late');
});

t.test('rejects a code whose time step was already used', async (t) => {
  const at = new Date(1234567890 * 1000);
  const check = await checkTotpCode({ secret: RFC_SECRET, code: '005924', at, afterTimeStep: timeStepAt(at) });
  t.same(check, { valid: false });
});

t.test('a last-used step beyond the window (clock skew between instances) is a plain rejection, not a crash', async (t) => {
  const at = new Date(1234567890 * 1000);
  for (const ahead of [1, 2, 100]) {
    const check = await checkTotpCode({ secret: RFC_SECRET, code: '005924', at, afterTimeStep: timeStepAt(at) + ahead });
    t.same(check, { valid: false }, `last step ${ahead} ahead`);
  }
});
