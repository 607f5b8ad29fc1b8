/**
 * Registration, the password step and the password change, shared by the
 * JSON API and the HTML pages. Answers are values with the HTTP status they
 * deserve; only a database fault throws.
 */
import { BCRYPT_MAX_PASSWORD_BYTES, sameSecret, type PasswordHasher } from '../app/crypto.js';
import type { SessionUser } from './session-user.js';
import type { UserRecord, Users } from './users.js';
import { isValidUsername, trimUsername, USERNAME_RULE_MESSAGE } from './usernames.js';

export { USERNAME_MAX_LENGTH, USERNAME_MIN_LENGTH } from './usernames.js';
export const PASSWORD_MIN_LENGTH = 8;
/** Longest password accepted anywhere, in characters; bcrypt's byte limit is checked on top. */
export const PASSWORD_MAX_LENGTH = 128;
/** Longest username looked up at login; registration applies its own, stricter rules. */
export const LOGIN_USERNAME_MAX_LENGTH = 64;

/** A password found right: whose it is, and a later check that it still is. */
export interface CheckedPassword {
  user: SessionUser;
  stillCurrent(): Promise<boolean>;
}

/** One message for an unknown user and a wrong password, so it does not tell which usernames exist. */
export const WRONG_CREDENTIALS_MESSAGE = 'Wrong username or password';

/** A wrong current password at a password change. */
export const WRONG_CURRENT_PASSWORD_MESSAGE = 'Your current password is not right; your password was not changed';

/** A new password that is the current one: nothing would change, and the person meant to. */
export const SAME_PASSWORD_MESSAGE = 'Your new password is your current one; choose a different new password. Your password was not changed';

/** The loser of two changes racing from the same current password. */
export const PASSWORD_CHANGED_MEANWHILE_MESSAGE =
  'Your password was changed by another request at the same moment; this one changed nothing. Sign in with the password chosen there';

/** A refusal with the status it maps to. */
export interface Refusal {
  ok: false;
  status: 400 | 401 | 409;
  message: string;
}

/** A registration: the new user, and (as for a password found right) a later check that the password is still theirs. */
export type RegistrationResult = ({ ok: true } & CheckedPassword) | Refusal;

export type PasswordChangeResult = { ok: true } | Refusal;

/** Users with passwords. */
export class Accounts {
  readonly #users: Users;
  readonly #passwords: PasswordHasher;

  constructor(users: Users, passwords: PasswordHasher) {
    this.#users = users;
    this.#passwords = passwords;
  }

  /**
   * Creates a user. The request schema already bounds both fields; this adds
   * the rules a schema cannot say, in words a person can act on. The name is
   * trimmed first (`trimUsername`), and stored as trimmed.
   */
  async register(typedUsername: string, password: string): Promise<RegistrationResult> {
    const username = trimUsername(typedUsername);
    if (!isValidUsername(username)) return refuse(400, USERNAME_RULE_MESSAGE);
    const broken = checkNewPassword(password);
    if (broken) return broken;
    const created = await this.#users.create(username, await this.#passwords.hash(password));
    if (!created) return refuse(409, 'That username is taken; choose another');
    return { ok: true, ...this.#checked(created) };
  }

  /**
   * The user whose password this is; `null` for an unknown user and a wrong
   * password alike, and for a name registration would refuse: that one names
   * no account, and still costs the one bcrypt comparison a wrong password does.
   * `stillCurrent` says, when asked later, whether the password checked is
   * still the user's (no change landed since it was read).
   */
  async checkPassword(username: string, password: string): Promise<CheckedPassword | null> {
    const record = await this.#users.findByUsername(username);
    const matches = await this.#passwords.verify(password, record?.passwordHash ?? null);
    if (!record || !matches) return null;
    return this.#checked(record);
  }

  /** `record`, whose password was just proven (checked, or chosen), for a sign-in. */
  #checked(record: UserRecord): CheckedPassword {
    return { user: toSessionUser(record), stillCurrent: () => this.#users.hasPasswordHash(record.id, record.passwordHash) };
  }

  /**
   * Replaces the password of `userId` when `currentPassword` is right and
   * `newPassword` keeps the rules of registration. The rules are checked
   * first: a new password they refuse costs no bcrypt work and says nothing
   * about the current one. Otherwise two bcrypt operations (the check, the
   * new hash) and one conditional write (see `Users.replacePasswordHash`).
   * A new password that is the current one is refused (400) after the check,
   * with no hash made: once the current password is found right, the two
   * typed strings being the same is the whole question, and a constant-time
   * comparison of them answers it without a second bcrypt comparison.
   *
   * `beforeWrite` runs once the current password is found right, before the
   * write: what the change must undo anyway (remembered browsers) goes first,
   * so a fault in between leaves the old password with nothing remembered,
   * never a new password with the old browsers still remembered.
   */
  async changePassword(
    userId: string,
    currentPassword: string,
    newPassword: string,
    beforeWrite: () => Promise<void> = async () => {},
  ): Promise<PasswordChangeResult> {
    const broken = checkNewPassword(newPassword);
    if (broken) return broken;
    const record = await this.#users.findById(userId);
    if (!record || !(await this.#passwords.verify(currentPassword, record.passwordHash))) {
      return refuse(401, WRONG_CURRENT_PASSWORD_MESSAGE);
    }
    if (sameSecret(currentPassword, newPassword)) return refuse(400, SAME_PASSWORD_MESSAGE);
    const newHash = await this.#passwords.hash(newPassword);
    await beforeWrite();
    const replaced = await this.#users.replacePasswordHash(userId, record.passwordHash, newHash);
    return replaced ? { ok: true } : refuse(409, PASSWORD_CHANGED_MEANWHILE_MESSAGE);
  }
}

/**
 * The rules of a new password, at registration and at a change; the refusal
 * of the first one it breaks, or `null`.
 */
function checkNewPassword(password: string): Refusal | null {
  // Characters, as JSON Schema's minLength and people count them: `length` counts UTF-16 units,
  // and would take four emoji for eight characters.
  if ([...password].length < PASSWORD_MIN_LENGTH) {
    return refuse(400, `Choose a password of at least ${PASSWORD_MIN_LENGTH} characters`);
  }
  // bcrypt ignores what comes after 72 bytes; refusing is honest, truncating would not be.
  if (Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_PASSWORD_BYTES) {
    return refuse(400, `Choose a password of at most ${BCRYPT_MAX_PASSWORD_BYTES} bytes`);
  }
  return null;
}

function refuse(status: Refusal['status'], message: string): Refusal {
  return { ok: false, status, message };
}

/** What a session keeps of a user: never the password hash. */
function toSessionUser(record: UserRecord): SessionUser {
  return { id: record.id, username: record.username };
}
