import { randomBytes } from 'node:crypto';
import t from 'tap';
import { decryptSecret, encryptSecret, validateKeyRing, type EncryptedValue } from '../lib/crypto.js';
import { SecretDecryptionError } from '../lib/errors.js';

const oldKey = randomBytes(32);
const newKey = randomBytes(32);
const ring = { currentKeyId: 'old', keys: { old: oldKey } };
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

t.test('round trip: what is encrypted decrypts to the same secret, and is not the secret', async (t) => {
  const encrypted = encryptSecret(SECRET, ring, 'user-1');
  t.equal(encrypted.keyId, 'old');
  t.notMatch(JSON.stringify(encrypted), SECRET);
  t.equal(decryptSecret(encrypted, ring, 'user-1'), SECRET);
  t.not(encryptSecret(SECRET, ring, 'user-1').ciphertext, encrypted.ciphertext, 'a fresh IV each time');
});

t.test('any altered byte is an error, never a wrong secret', async (t) => {
  const encrypted = encryptSecret(SECRET, ring, 'user-1');
  for (const field of ['iv', 'ciphertext', 'authTag'] as const) {
    const bytes = Buffer.from(encrypted[field], 'base64');
    bytes[0] = bytes[0]! ^ 1;
    const tampered: EncryptedValue = { ...encrypted, [field]: bytes.toString('base64') };
    t.throws(() => decryptSecret(tampered, ring, 'user-1'), SecretDecryptionError, field);
  }
});

t.test("a ciphertext moved to another user's document does not decrypt", async (t) => {
  const encrypted = encryptSecret(SECRET, ring, 'user-1');
  t.throws(() => decryptSecret(encrypted, ring, 'user-2'), SecretDecryptionError);
});

t.test('an unknown key id is an error', async (t) => {
  const encrypted = encryptSecret(SECRET, ring, 'user-1');
  t.throws(() => decryptSecret({ ...encrypted, keyId: 'gone' }, ring, 'user-1'), {
    name: 'SecretDecryptionError',
    message: /No encryption key with id "gone"/,
  });
});

t.test('rotation: old secrets decrypt with the old key, new ones use the current key', async (t) => {
  const before = encryptSecret(SECRET, ring, 'user-1');
  const rotated = { currentKeyId: 'new', keys: { old: oldKey, new: newKey } };
  t.equal(decryptSecret(before, rotated, 'user-1'), SECRET);
  const after = encryptSecret(SECRET, rotated, 'user-1');
  t.equal(after.keyId, 'new');
  t.throws(() => decryptSecret(after, ring, 'user-1'), SecretDecryptionError, 'the old ring cannot read it');
});

t.test('a bad key ring is refused at construction with a message naming the problem', async (t) => {
  t.throws(() => validateKeyRing(undefined, 'encryptionKeys'), { name: 'TypeError', message: /encryptionKeys is required/ });
  t.throws(() => validateKeyRing({ currentKeyId: 'a', keys: { a: randomBytes(16) } }, 'encryptionKeys'), {
    message: /encryptionKeys.keys\["a"\] must be a 32-byte/,
  });
  t.throws(() => validateKeyRing({ currentKeyId: 'b', keys: { a: randomBytes(32) } }, 'encryptionKeys'), {
    message: /currentKeyId must name one of the keys/,
  });
});
