/**
 * Builds the demo application on a MongoDB database. Used by `main.ts` and by
 * the tests, which hand in their own database and faster settings.
 */
import fastifyCsrfProtection from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Db } from 'mongodb';
import { MfaStore, type MfaEvent, type MfaStoreOptions } from '../lib/index.js';
import { Accounts } from './accounts/accounts.js';
import { ActivityLog } from './activity/activity-log.js';
import { SecurityEvents } from './activity/security-events.js';
import { FormSubmissions } from './accounts/form-submissions.js';
import type { AppConfig } from './app/config.js';
import { createPasswordHasher, encryptionKeyId } from './app/crypto.js';
import { WorkLimiter, type WorkLimits } from './app/work-limiter.js';
import { ensureRateLimitIndexes, fleetRateLimitStore, sharedRateLimits, type LimitDocument } from './app/rate-limit-store.js';
import { FleetSecrets, type FleetRecord } from './app/fleet-secrets.js';
import { warnOfPlainHttp } from './app/plain-http-warning.js';
import { securityCollection } from './app/security-collections.js';
import { DemoMetrics } from './app/metrics.js';
import { registerMetrics } from './routes/metrics-routes.js';
import { fastifyTrustProxy } from './app/trust-proxy.js';
import { boundConnections, fastifyConnectionOptions, resolveConnectionLimits, trustedProxyPeer, type ConnectionLimits } from './app/connection-limits.js';
import { answerAddressError, registerErrorHandling } from './routes/error-handler.js';
import { logEachRequestOnce, loggerOptions } from './app/logger.js';
import { registerOpenApi } from './routes/openapi.js';
import { MfaActions } from './accounts/mfa-actions.js';
import { LoginForwarding } from './login/login-forwarding.js';
import { KnownBrowsers } from './login/known-browsers.js';
import { PasswordThrottle, type PasswordThrottlePolicy } from './login/password-throttle.js';
import { sessionOwner } from './login/login-session.js';
import { RememberedBrowsers } from './login/remembered-browsers.js';
import { registerSignInCauses } from './activity/sign-in-cause.js';
import { DEFAULT_SESSION_TTL_MS, MongoSessionStore } from './sessions/mongo-session-store.js';
import { SessionVault } from './sessions/session-vault.js';
import { apiActivityRoutes } from './routes/api-activity-routes.js';
import { apiAuthRoutes } from './routes/api-auth-routes.js';
import { acceptEmptyJsonBodies, requireJsonContentType } from './routes/api-guards.js';
import { apiMfaRoutes } from './routes/api-mfa-routes.js';
import { apiPasswordRoutes } from './routes/api-password-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { htmlAccountPages } from './routes/html-account-pages.js';
import { htmlActivityPages } from './routes/html-activity-pages.js';
import { htmlAuthPages } from './routes/html-auth-pages.js';
import { htmlWaitPage } from './routes/html-wait-page.js';
import type { RouteContext } from './routes/route-context.js';
import { STATIC_PATHS, staticRoutes } from './routes/static-routes.js';
import { createFormProtection } from './routes/form-protection.js';
import { registerSecurity } from './app/security.js';
import { createPassport, registerPassport } from './login/second-factor.js';
import { registerSessions } from './sessions/sessions.js';
import { confirmSessionStillLive } from './sessions/session-liveness.js';
import { Users } from './accounts/users.js';
import './login/fastify-types.js';

/** Largest request body accepted: a form or JSON object of a few short fields. */
export const BODY_LIMIT_BYTES = 16 * 1024;

/** Options of `buildApp`. */
export interface BuildAppOptions {
  /** The database holding the `users`, `mfa`, `sessions`, `password_attempts` and `security_events` collections. */
  db: Db;
  config: AppConfig;
  /** pino options (level, stream, ...); redaction of secrets is always added. Default: no logging. */
  logger?: Record<string, unknown> | boolean;
  /** bcrypt cost of passwords and backup codes. Tests lower it; the defaults are 12 and 10. */
  bcryptCost?: number;
  /** How long the twin of a Verify post may follow its finished login. Tests shorten it; the default is a minute. */
  loginForwardTtlMs?: number;
  /** Overrides of the MFA store's policy (throttling, number of backup codes, ...). */
  mfa?: Pick<MfaStoreOptions, 'throttle' | 'backupCodeCount' | 'lowBackupCodeThreshold' | 'backupCodeMaxAgeMs' | 'rememberedDeviceTtlMs'>;
  /** Overrides of the password step's waits (`DEFAULT_PASSWORD_THROTTLE_POLICY`). */
  passwordThrottle?: Partial<PasswordThrottlePolicy>;
  /** Bcrypt turns at once and in the queue, per process (`defaultWorkLimits`). */
  passwordWork?: Partial<WorkLimits>;
  /** Overrides of the timeouts and connection bounds (`DEFAULT_CONNECTION_LIMITS`). Tests shorten them. */
  connections?: Partial<ConnectionLimits>;
}

/**
 * Creates the collections' indexes and returns the app, not yet listening.
 *
 * @example
 * const app = await buildApp({ db: client.db('demo'), config: readConfig(process.env), logger: true });
 * await app.listen({ port: 3000 });
 */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { db, config } = options;
  const connections = resolveConnectionLimits(options.connections);
  const app = Fastify({
    logger: options.logger ? loggerOptions(options.logger) : false,
    // Fastify's own request lines off (see logEachRequestOnce), the way Fastify 5.8+ asks for it.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    ...fastifyConnectionOptions(connections),
    // A count or a list of proxies, never `true` (see trust-proxy.ts); typed as the option Fastify's overloads expect.
    trustProxy: fastifyTrustProxy(config.trustProxy) as FastifyServerOptions['trustProxy'],
    // No coercion: `{"token": 123456}` is a 400, not quietly the string "123456".
    // No removal: an unexpected field is refused, not silently dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
    // A path parameter too long for the router (over 100 characters) is a 400 in words, not Fastify's 414.
    frameworkErrors: answerAddressError,
  });

  boundConnections(app.server, connections, trustedProxyPeer(config.trustProxy));

  const securityEvents = new SecurityEvents(securityCollection(db, 'security_events'));
  const activity = new ActivityLog(securityEvents, app.log);
  // This app's own registry: several apps in one process (tests) count apart.
  const metrics = new DemoMetrics();
  const onEvent = (event: MfaEvent) => {
    app.log.info({ mfaEvent: event.type, userId: event.userId }, 'mfa event');
    activity.recordMfaEvent(event);
    metrics.recordMfaEvent(event);
  };
  const keyId = encryptionKeyId(config.mfaEncryptionKey);
  // Previous keys only read what was made under them: secrets and backup codes made from now on use the current key.
  const previousKeys = (config.mfaPreviousEncryptionKeys ?? []).map((key) => [encryptionKeyId(key), key] as const);
  const store = new MfaStore({
    collection: db.collection('mfa'),
    encryptionKeys: { currentKeyId: keyId, keys: { ...Object.fromEntries(previousKeys), [keyId]: config.mfaEncryptionKey } },
    issuer: config.mfaIssuer,
    onEvent,
    ...(options.bcryptCost === undefined ? {} : { bcryptCost: options.bcryptCost }),
    ...options.mfa,
  });
  const users = new Users(securityCollection(db, 'users'));
  const sessionStore = new MongoSessionStore(securityCollection(db, 'sessions'), { ownerOf: sessionOwner });
  const forms = new FormSubmissions(securityCollection(db, 'form_submissions'));
  const passwordThrottle = new PasswordThrottle(securityCollection(db, 'password_attempts'), config.sessionSecret, options.passwordThrottle);
  const rateLimits = securityCollection<LimitDocument>(db, 'rate_limits');
  const fleet = new FleetSecrets(securityCollection<FleetRecord>(db, 'fleet'), config);
  await Promise.all([
    store.ensureIndexes(),
    users.ensureIndexes(),
    sessionStore.ensureIndexes(),
    forms.ensureIndexes(),
    securityEvents.ensureIndexes(),
    passwordThrottle.ensureIndexes(),
    ensureRateLimitIndexes(rateLimits),
  ]);

  const passwordWork = new WorkLimiter(options.passwordWork);
  metrics.watchPasswordWork(passwordWork);
  const accounts = new Accounts(users, await createPasswordHasher(options.bcryptCost, passwordWork));
  const passport = createPassport(store);
  const context: Omit<RouteContext, 'formProtection' | 'stillAuthorised'> = {
    db,
    accounts,
    mfa: new MfaActions(store),
    passport,
    vault: new SessionVault(config.mfaEncryptionKey, config.mfaPreviousEncryptionKeys),
    forms,
    browsers: new RememberedBrowsers(store, { secureCookies: config.production }),
    sessions: sessionStore,
    forwarding: new LoginForwarding(sessionStore, { secureCookies: config.production, ...(options.loginForwardTtlMs ? { ttlMs: options.loginForwardTtlMs } : {}) }),
    authRateLimit: { max: config.rateLimitMax, timeWindow: 60_000 },
    sharedRateLimits: sharedRateLimits(config.rateLimitMax),
    passwordThrottle,
    passwordWork,
    knownBrowsers: new KnownBrowsers(config.sessionSecret, { secureCookies: config.production }),
    activity,
  };
  // For tests and tools that read the collection directly: `await app.securityActivity.settled()`.
  app.decorate('securityActivity', activity);
  // For main.ts, which compares this instance's secrets with the fleet's before it listens.
  app.decorate('fleetSecrets', fleet);
  // For main.ts's metrics listener and for tests: `app.metrics.scrape()`.
  app.decorate('metrics', metrics);

  logEachRequestOnce(app);
  // First: every hook and handler after it, and the store's events, then know their request's sign-in.
  registerSignInCauses(app);
  registerMetrics(app, metrics, config.metrics);
  await registerSecurity(app, { production: config.production, rateLimitStore: fleetRateLimitStore(rateLimits) });
  if (config.production) warnOfPlainHttp(app, config.trustProxy);
  await registerSessions(app, {
    secret: config.sessionSecret,
    store: sessionStore,
    secureCookies: config.production,
    maxAgeMs: DEFAULT_SESSION_TTL_MS,
    ownerOf: sessionOwner,
    sessionlessPaths: STATIC_PATHS,
  });
  await registerPassport(app, passport);
  // At the root rather than around the pages alone: error pages, the 404 included,
  // need a token for the "Cancel sign-in" form of a login that waits for its second factor.
  await app.register(fastifyCsrfProtection, { sessionPlugin: '@fastify/session' });
  const routeContext: RouteContext = {
    ...context,
    formProtection: createFormProtection(app, config.sessionSecret),
    stillAuthorised: (request) => () => confirmSessionStillLive(request, sessionStore, sessionOwner),
  };
  registerErrorHandling(app);
  // Before the routes: @fastify/swagger documents the routes registered after it.
  await registerOpenApi(app);

  await app.register(healthRoutes, { db, fleet });
  await app.register(staticRoutes);
  await app.register(async (api) => {
    api.addHook('onRequest', requireJsonContentType);
    acceptEmptyJsonBodies(api);
    await api.register(apiAuthRoutes, routeContext);
    await api.register(apiMfaRoutes, routeContext);
    await api.register(apiActivityRoutes, routeContext);
    await api.register(apiPasswordRoutes, routeContext);
  });
  await app.register(async (pages) => {
    await pages.register(fastifyFormbody);
    await pages.register(htmlAuthPages, routeContext);
    await pages.register(htmlAccountPages, routeContext);
    // A sliding window's wait reaches into the next window: at most two of them (sliding-window.ts).
    const longestWaits = { attempts: 2 * routeContext.authRateLimit.timeWindow, passwords: passwordThrottle.longestWaitMs };
    await pages.register(htmlWaitPage, { longestWaits });
    await pages.register(htmlActivityPages, routeContext);
  });
  return app;
}
