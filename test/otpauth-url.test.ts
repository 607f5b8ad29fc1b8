import t from 'tap';
import { MfaStore, buildOtpauthUrl } from '../lib/index.js';
import { generateTotpSecret } from '../lib/crypto.js';
import { createMfaFixture, newEncryptionKeys } from './helpers/mfa-fixture.js';

/** Reads a Key URI as an authenticator app does: the label decoded, split at its separator. */
function readKeyUri(otpauthUrl: string): { labelParts: string[]; issuer: string | null; secret: string | null } {
  const url = new URL(otpauthUrl);
  const label = decodeURIComponent(url.pathname.replace(/^\//, ''));
  return { labelParts: label.split(':'), issuer: url.searchParams.get('issuer'), secret: url.searchParams.get('secret') };
}

t.test('the label is exactly issuer:account, and the issuer parameter repeats the issuer', async (t) => {
  const cases = [
    { issuer: 'Example App', accountName: 'alice@example.test' },
    { issuer: 'Example & Co / Ünïcode', accountName: 'bob+tag@example.test' },
    { issuer: 'auth.example.test', accountName: 'carol smith' },
  ];
  for (const { issuer, accountName } of cases) {
    const secret = generateTotpSecret();
    const read = readKeyUri(buildOtpauthUrl({ secret, issuer, accountName }));
    t.same(read.labelParts, [issuer, accountName], `${issuer} / ${accountName}`);
    t.equal(read.issuer, issuer);
    t.equal(read.secret, secret);
  }
});

t.test('what beginEnrollment hands out reads the same way', async (t) => {
  const fixture = await createMfaFixture(t);
  const start = await fixture.store.beginEnrollment('alice', 'alice@example.test');
  const read = readKeyUri(start.otpauthUrl);
  t.same(read.labelParts, ['Example App', 'alice@example.test']);
  t.equal(read.issuer, 'Example App');
});

t.test('an issuer with a colon is refused when the store is made, with a TypeError that says why', async (t) => {
  const fixture = await createMfaFixture(t);
  for (const issuer of ['https://auth.example.test:8443', 'Acme: Staging', 'a:b']) {
    t.throws(
      () => new MfaStore({ collection: fixture.collection, encryptionKeys: newEncryptionKeys(), issuer }),
      { name: 'TypeError', message: /^issuer must not contain ":": .*split it at the first colon/ },
      issuer,
    );
    t.throws(() => buildOtpauthUrl({ secret: generateTotpSecret(), issuer, accountName: 'alice' }), {
      name: 'TypeError',
      message: /^issuer must not contain ":"/,
    });
  }
});

t.test('an account name with a colon is refused before anything is stored', async (t) => {
  const fixture = await createMfaFixture(t);
  await t.rejects(fixture.store.beginEnrollment('alice', 'alice:admin'), {
    name: 'TypeError',
    message: /^accountName must not contain ":"/,
  });
  await t.rejects(fixture.store.beginEnrollment('alice', ''), { name: 'TypeError', message: /^accountName is required/ });
  t.equal(await fixture.collection.findOne({ userId: 'alice' }), null, 'no pending secret was saved');
  t.same(fixture.events, []);
  t.throws(() => buildOtpauthUrl({ secret: generateTotpSecret(), issuer: 'Acme', accountName: 'x:y' }), {
    name: 'TypeError',
    message: /^accountName must not contain ":"/,
  });
});
