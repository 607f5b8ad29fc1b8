// @fastify/passport's types import @fastify/flash's, which import @fastify/secure-session's, a package
// nothing installs (fastify/fastify-flash#167). This stands in for it, so tsc checks every other library.
declare module '@fastify/secure-session' {
  interface SessionData {}
}
