// Options are checked as a library's are: in plain JavaScript nothing else stops a misspelled
// option, so an unknown name throws a TypeError naming it and the known ones, and a wrong
// value says what arrived (never its content: it may be the key itself).
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { MfaStore, Strategy, type MfaStoreOptions, type TotpOrBackupCodeStrategyOptions } from '../lib/index.js';
import { TestMongoClient } from './helpers/database.js';

// Never connected: construction reads no database.
const client = new TestMongoClient('mongodb://127.0.0.1:1');
t.teardown(() => client.close());
const collection = client.db('options').collection('mfa');
const key = randomBytes(32);
const storeOptions = { collection, issuer: 'Example', encryptionKeys: { currentKeyId: 'k1', keys: { k1: key } } };
const store = new MfaStore(storeOptions);
const strategyOptions = { store, getPendingUserId: () => null, getUser: () => null };

/** What a JavaScript app can pass: anything. */
const newStore = (options: Record<string, unknown>) => () => new MfaStore(options as unknown as MfaStoreOptions);
const newStrategy = (options: Record<string, unknown>) => () => new Strategy(options as unknown as TotpOrBackupCodeStrategyOptions<object, unknown>);

t.test('a misspelled strategy option is refused, naming it, the likely meaning and every option', async (t) => {
  t.throws(newStrategy({ ...strategyOptions, tokenFeild: 'code' }), {
    name: 'TypeError',
    message: 'TotpOrBackupCodeStrategy has no option "tokenFeild" (did you mean "tokenField"?); its options are '
      + 'store, getPendingUserId, getUser, tokenField, name, messages, requestContext',
  });
  t.throws(newStrategy({ ...strategyOptions, failureMessages: {} }), {
    message: /^TotpOrBackupCodeStrategy has no option "failureMessages"; its options are store, /,
  }, 'no guess when nothing is close');
  t.throws(newStrategy({ ...strategyOptions, tokenFeild: undefined }), TypeError, 'even when its value is undefined');
  t.equal(new Strategy({ ...strategyOptions, tokenField: 'code', name: 'mfa' }).name, 'mfa', 'the right names are taken');
});

t.test('a wrong tokenField or name says what arrived', async (t) => {
  t.throws(newStrategy({ ...strategyOptions, tokenField: 6 }), { message: 'tokenField must be a non-empty string; a number was given' });
  t.throws(newStrategy({ ...strategyOptions, name: '' }), { message: 'name must be a non-empty string; an empty string was given' });
});

t.test('a store of the wrong kind is told apart from a missing one', async (t) => {
  t.throws(newStrategy({ ...strategyOptions, store: undefined }), { message: /^store is required: an MfaStore/ });
  t.throws(newStrategy({ ...strategyOptions, store: {} }), {
    message: 'store must be an MfaStore, made with new MfaStore({ collection, encryptionKeys, issuer }); '
      + 'the object given is not one (it has no verifySubmittedCode method)',
  });
  t.throws(newStrategy({ ...strategyOptions, store: storeOptions }), { message: /MfaStore's options were given: pass new MfaStore\(options\)$/ });
  t.throws(newStrategy({ ...strategyOptions, store: 'mfa' }), { message: /; a string was given$/ });
});

t.test('a misspelled store option or throttle option is refused the same way', async (t) => {
  t.throws(newStore({ ...storeOptions, bcryptCots: 12 }), {
    name: 'TypeError',
    message: /^MfaStore has no option "bcryptCots" \(did you mean "bcryptCost"\?\); its options are collection, encryptionKeys, issuer, /,
  });
  // Silently ignored, this one would leave the default lockout where the app asked for a stricter one.
  t.throws(newStore({ ...storeOptions, throttle: { lockAfterFailure: 3 } }), {
    message: 'MfaStore throttle has no option "lockAfterFailure" (did you mean "lockAfterFailures"?); '
      + 'its options are throttleAfterFailures, baseDelayMs, lockAfterFailures, lockDurationMs',
  });
  t.throws(newStore({ ...storeOptions, throttle: 5 }), { message: /^throttle must be an object with any of throttleAfterFailures, .*; a number was given$/ });
  t.throws(newStore({ ...storeOptions, encryptionKeys: { currentKeyID: 'k1', keys: { k1: key } } }), {
    message: /^encryptionKeys has no option "currentKeyID" \(did you mean "currentKeyId"\?\)/,
  });
  t.ok(new MfaStore({ ...storeOptions, throttle: { lockAfterFailures: 3 } }), 'the right names are taken');
});

t.test('a collection of the wrong kind says what it is', async (t) => {
  t.throws(newStore({ ...storeOptions, collection: undefined }), { message: /^collection is required: a MongoDB Collection/ });
  t.throws(newStore({ ...storeOptions, collection: client.db('options') }), { message: /; a Db was given$/ });
  t.throws(newStore({ ...storeOptions, collection: client }), { message: /; a MongoClient was given$/ });
  t.throws(newStore({ ...storeOptions, collection: {} }), { message: /; the object given has no findOneAndUpdate method$/ });
});

t.test('a key of the wrong length says what length arrived, and how to fix the usual slips', async (t) => {
  const withKey = (value: unknown) => newStore({ ...storeOptions, encryptionKeys: { currentKeyId: 'k1', keys: { k1: value } } });
  t.throws(withKey(randomBytes(16)), { message: 'encryptionKeys.keys["k1"] must be a 32-byte Buffer or Uint8Array; it is 16 bytes' });
  t.throws(withKey(Buffer.from('')), { message: /; it is empty \(is the variable it is read from set\?\)$/ });
  const base64 = key.toString('base64');
  t.throws(withKey(Buffer.from(base64)), { message: /; it is 44 bytes: base64 text read as is\? Decode it with Buffer\.from\(text, 'base64'\)$/ });
  t.throws(withKey(Buffer.from(key.toString('hex'))), { message: /; it is 64 bytes: hex text read as is\?/ });
  t.throws(withKey(base64), { message: /; it is a string of 44 characters: decode it/ });
  const messages = [base64, Buffer.from(base64)].map((value) => {
    try {
      withKey(value)();
      return '';
    } catch (error) {
      return (error as Error).message;
    }
  });
  t.notOk(messages.some((message) => message.includes(base64)), 'the message never carries the key');
});
