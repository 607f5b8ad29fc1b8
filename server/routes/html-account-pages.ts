/**
 * HTML pages of a logged-in user: the account overview, the MFA changes and
 * the password change.
 * Every post answers with a redirect and every page is a GET, so Reload and
 * Back never post a form again. Backup codes just made are kept, sealed in
 * the session, and shown by a GET until the person says they saved them; a
 * form that makes them works once (its one-time id), and its twin is shown
 * the codes the first one made.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { renderQrCode } from '../../lib/index.js';
import type { ActionRefusal, ActionResult, MfaActions } from '../accounts/mfa-actions.js';
import { formatActivityCursor } from '../activity/activity-cursor.js';
import { NOTICES_NOT_ACKNOWLEDGEABLE_MESSAGE } from '../activity/notices.js';
import { generateFormId } from '../app/crypto.js';
import { setFlash, takeFlash } from '../login/flash.js';
import { currentUser } from '../login/login-session.js';
import { type SessionUser } from '../accounts/session-user.js';
import { runPasswordChange } from '../login/password-change.js';
import type { FreshBackupCodes } from '../sessions/session-vault.js';
import {
  renderAccountPage,
  renderBackupCodesPage,
  renderCodeConfirmPage,
  renderCodesInProgressPage,
  renderSetupPage,
} from '../views/account-pages.js';
import { flashForCodeFailure, renderFlashError, type CodeContext } from '../views/code-failure-words.js';
import { CHANGE_PASSWORD_URL } from '../views/password-change-form.js';
import { MALFORMED_PASSWORD_CHANGE_MESSAGE, readNotice, redirectAfterPost, requireLoginPage, sendPage } from './html-helpers.js';
import { endSessionsSignedInWithoutIt } from '../login/mfa-turned-on.js';
import type { RouteContext } from './route-context.js';
import { refuseUnaimedPost } from './unaimed-posts.js';
import {
  acknowledgeNoticesForm,
  codeChangeForm,
  emptyForm,
  forgetBrowserForm,
  passwordChangeForm,
  type AcknowledgeNoticesFormBody,
  type CodeChangeBody,
  type ForgetBrowserBody,
  type PasswordChangeBody,
} from './schemas.js';

const CODES_PAGE = '/mfa/backup-codes/new';

export const htmlAccountPages: FastifyPluginAsync<RouteContext> = async (app, context) => {
  const { mfa, vault, forms, activity, browsers, stillAuthorised } = context;
  // Login is checked before CSRF: an anonymous visitor is sent to the login page, not shown a CSRF error.
  app.addHook('preValidation', requireLoginPage);
  // Before the CSRF check: a click nobody aimed is ignored whatever else it carries.
  app.addHook('preValidation', refuseUnaimedPost);
  const formPost = { preValidation: app.csrfProtection, attachValidation: true, config: { rateLimit: context.authRateLimit } };
  const userOf = (request: FastifyRequest): SessionUser => currentUser(request)!;

  /** A refused post: its words for the next page, then there. */
  function refuse(request: FastifyRequest, reply: FastifyReply, refusal: ActionRefusal, context: CodeContext, back: string) {
    setFlash(request, flashForCodeFailure(refusal, context));
    return redirectAfterPost(reply, back);
  }

  /** Codes just made: sealed in the session, then shown by a GET. */
  function showFreshCodes(request: FastifyRequest, reply: FastifyReply, codes: string[], reason: FreshBackupCodes['reason']) {
    vault.put(request, 'freshBackupCodes', userOf(request).id, { codes, reason, generatedAt: Date.now() });
    return redirectAfterPost(reply, CODES_PAGE);
  }

  /**
   * A post that changes the second factor with a current code: done once per
   * form (its one-time id; a twin is sent to `twin`), and refused back to
   * `back` with words for `wording`.
   */
  function codeChangeRoute<T extends object>(
    path: string,
    spec: {
      back: string;
      wording: CodeContext;
      twin: (formId: string) => string;
      /** The change, with the actions of this request (their events carry where it came from). */
      change: (actions: MfaActions, user: SessionUser, token: string) => Promise<ActionResult<T>>;
      changed: (request: FastifyRequest, reply: FastifyReply, result: T) => FastifyReply | Promise<FastifyReply>;
      /** Where a refusal that is really a twin without its form id goes instead. */
      alreadyDone?: (refusal: ActionRefusal) => string | null;
    },
  ): void {
    app.post<{ Body: CodeChangeBody }>(path, { ...formPost, schema: { body: codeChangeForm } }, async (request, reply) => {
      const user = userOf(request);
      if (request.validationError) return refuse(request, reply, MALFORMED, spec.wording, spec.back);
      const { formId, token } = request.body;
      if (!(await forms.claim(formId, user.id))) return redirectAfterPost(reply, spec.twin(formId));
      const result = await spec.change(mfa.forRequest(request, stillAuthorised(request)), user, token);
      if (result.ok) return spec.changed(request, reply, result);
      await forms.release(formId, user.id);
      const elsewhere = spec.alreadyDone?.(result);
      return elsewhere ? redirectAfterPost(reply, elsewhere) : refuse(request, reply, result, spec.wording, spec.back);
    });
  }

  app.get('/account', async (request, reply) => {
    const user = userOf(request);
    const flash = takeFlash(request);
    // Loading the page acknowledges nothing: the notices stay until a button says so (see notices.ts).
    const [status, overview] = await Promise.all([mfa.status(user.id), activity.overview(user.id, user)]);
    const flashError = renderFlashError(flash);
    const page = renderAccountPage({
      user,
      mfa: status,
      activity: overview.lines,
      olderActivity: overview.older && formatActivityCursor(overview.older),
      securityNotices: overview.notices,
      browsers: status.enabled ? await browsers.list(request, user.id) : [],
      csrfToken: reply.generateCsrf(),
      notice: readNotice(request),
      ...(flash?.form === 'change-password' ? { passwordError: flashError } : { error: flashError }),
      unsavedBackupCodes: vault.freshCodes(request, user.id) !== null,
    });
    return sendPage(reply, page);
  });

  // An explicit "I have read these", for the notices the page showed (not those that arrived since),
  // refused when this session is what they warn about (see notices.ts).
  app.post<{ Body: AcknowledgeNoticesFormBody }>('/account/notices/acknowledge', { ...formPost, schema: { body: acknowledgeNoticesForm } }, async (request, reply) => {
    if (request.validationError) return redirectAfterPost(reply, '/account');
    const user = userOf(request);
    const result = await activity.acknowledgeNotices(user.id, user, request.body.notices.split(' '));
    if (!result.ok) {
      setFlash(request, { error: NOTICES_NOT_ACKNOWLEDGEABLE_MESSAGE });
      return redirectAfterPost(reply, '/account');
    }
    return redirectAfterPost(reply, '/account?notice=notices-acknowledged');
  });

  app.post('/mfa/setup', { ...formPost, schema: { body: emptyForm } }, async (request, reply) => {
    const user = userOf(request);
    const result = await mfa.forRequest(request).startSetup(user);
    if (!result.ok) return refuse(request, reply, result, 'change', '/account');
    vault.put(request, 'pendingSetup', user.id, { secret: result.secret, otpauthUrl: result.otpauthUrl });
    return redirectAfterPost(reply, '/mfa/setup');
  });

  app.get('/mfa/setup', async (request, reply) => {
    const user = userOf(request);
    const status = await mfa.status(user.id);
    if (status.enabled) return reply.redirect(vault.freshCodes(request, user.id) ? CODES_PAGE : '/account', 303);
    if (!status.pendingEnrollment) return reply.redirect('/account', 303);
    const pending = vault.get(request, 'pendingSetup', user.id);
    const start = pending ? { ...pending, qrCodeDataUrl: (await renderQrCode(pending.otpauthUrl)).pngDataUrl } : undefined;
    const error = renderFlashError(takeFlash(request));
    return sendPage(reply, renderSetupPage({ user, csrfToken: reply.generateCsrf(), formId: generateFormId(), ...(start ? { start } : {}), error }));
  });

  app.get<{ Querystring: { form?: string } }>(CODES_PAGE, async (request, reply) => {
    const user = userOf(request);
    const fresh = vault.freshCodes(request, user.id);
    if (fresh) {
      const page = renderBackupCodesPage({
        user,
        csrfToken: reply.generateCsrf(),
        backupCodes: fresh.codes,
        reason: fresh.reason,
        generatedAt: new Date(fresh.generatedAt),
      });
      return sendPage(reply, page);
    }
    // The twin of a form whose first request is still making the codes: look again shortly.
    const formId = request.query.form;
    if (typeof formId === 'string' && (await forms.isPending(formId, user.id))) {
      return sendPage(reply, renderCodesInProgressPage(user, `${CODES_PAGE}?form=${encodeURIComponent(formId)}`));
    }
    return reply.redirect('/account', 303);
  });

  app.post('/mfa/backup-codes/saved', { ...formPost, schema: { body: emptyForm } }, async (request, reply) => {
    const fresh = vault.freshCodes(request, userOf(request).id);
    vault.drop(request, 'freshBackupCodes');
    return redirectAfterPost(reply, `/account?notice=${fresh?.reason === 'enabled' ? 'mfa-on' : 'codes-saved'}`);
  });

  for (const action of ['backup-codes', 'disable'] as const) {
    app.get(`/mfa/${action}`, async (request, reply) => {
      const user = userOf(request);
      if (!(await mfa.status(user.id)).enabled) return reply.redirect('/account', 303);
      // Back from the new codes: show them, not a form that would make another set.
      if (action === 'backup-codes' && vault.freshCodes(request, user.id)) return reply.redirect(CODES_PAGE, 303);
      const error = renderFlashError(takeFlash(request));
      return sendPage(reply, renderCodeConfirmPage({ user, csrfToken: reply.generateCsrf(), formId: generateFormId(), action, error }));
    });
  }

  // Forgetting needs no code and no one-time form id: it only takes away, and a twin (a double click)
  // ends where the first one did, with the browser forgotten.
  app.post<{ Body: ForgetBrowserBody }>('/mfa/browsers/forget', { ...formPost, schema: { body: forgetBrowserForm } }, async (request, reply) => {
    if (request.validationError) return redirectAfterPost(reply, '/account');
    await browsers.forget(request, reply, userOf(request).id, request.body.deviceId);
    return redirectAfterPost(reply, '/account?notice=browser-forgotten');
  });

  app.post('/mfa/browsers/forget-all', { ...formPost, schema: { body: emptyForm } }, async (request, reply) => {
    if (request.validationError) return redirectAfterPost(reply, '/account');
    await browsers.forgetAll(request, reply, userOf(request).id);
    return redirectAfterPost(reply, '/account?notice=browsers-forgotten');
  });

  // No one-time form id: once a change succeeds the old session id is retired, so a twin (a double
  // click without the page script) could not be shown the first one's result anyway; the conditional
  // write keeps it from changing the password twice, and it ends on the sign-in page.
  app.post<{ Body: PasswordChangeBody }>('/account/password', { ...formPost, schema: { body: passwordChangeForm } }, async (request, reply) => {
    const refuse = (error: string) => {
      setFlash(request, { error, form: 'change-password' });
      return redirectAfterPost(reply, CHANGE_PASSWORD_URL);
    };
    if (request.validationError) return refuse(MALFORMED_PASSWORD_CHANGE_MESSAGE);
    const outcome = await runPasswordChange(request, reply, context, userOf(request), request.body);
    if (!outcome.ok) return refuse(outcome.message);
    return redirectAfterPost(reply, `/account?notice=${outcome.forgottenBrowsers > 0 ? 'password-changed-browsers-forgotten' : 'password-changed'}`);
  });

  codeChangeRoute('/mfa/confirm', {
    back: '/mfa/setup',
    wording: 'setup',
    twin: (formId) => `${CODES_PAGE}?form=${formId}`,
    change: (actions, user, token) => actions.confirmSetup(user.id, token),
    changed: async (request, reply, result) => {
      vault.drop(request, 'pendingSetup');
      await endSessionsSignedInWithoutIt(request, context.sessions, userOf(request).id);
      return showFreshCodes(request, reply, result.backupCodes, 'enabled');
    },
    // Already on: the twin of the confirm that turned it on, without its form id. Never a wrong code.
    alreadyDone: (refusal) => (refusal.reason === 'mfa_already_on' ? CODES_PAGE : null),
  });

  codeChangeRoute('/mfa/backup-codes', {
    back: '/mfa/backup-codes',
    wording: 'change',
    twin: (formId) => `${CODES_PAGE}?form=${formId}`,
    change: (actions, user, token) => actions.replaceBackupCodes(user.id, token),
    changed: (request, reply, result) => showFreshCodes(request, reply, result.backupCodes, 'regenerated'),
  });

  codeChangeRoute('/mfa/disable', {
    back: '/mfa/disable',
    wording: 'change',
    twin: () => '/account',
    change: (actions, user, token) => actions.turnOff(user.id, token),
    changed: (request, reply) => {
      vault.drop(request, 'freshBackupCodes');
      return redirectAfterPost(reply, '/account?notice=mfa-off');
    },
  });
};

/** A form the schema refused: the code field is what people get wrong. */
const MALFORMED: ActionRefusal = { ok: false, status: 400, reason: 'malformed', message: 'malformed' };
