/**
 * How the demo's MongoDB client waits on the network. The driver's defaults
 * suit a client that would rather wait than fail: 30 s to pick a server, 30 s
 * for a connection or a monitoring check to answer, a check every 10 s. A
 * login page should rather answer 503 at once and be back as soon as MongoDB
 * is. The monitoring check matters most: while one is waiting for an answer,
 * the driver ignores every request to check again, so a MongoDB that took a
 * connection and then stopped answering (a frozen or overloaded host, packets
 * dropped) kept the server unselectable, and requests on its pooled
 * connections waiting, for as long as that check could wait.
 */
import type { MongoClientOptions } from 'mongodb';

/** How long a request waits for an unreachable MongoDB before it is answered 503. */
const SERVER_SELECTION_TIMEOUT_MS = 2_500;
/** How long a new connection, or a monitoring check, may go unanswered before the server counts as down. */
const CONNECT_TIMEOUT_MS = 2_500;
/**
 * How long a command may wait for its reply on a connection. Without it the
 * first request after MongoDB froze waited for the monitor to notice (a check
 * every 2 s, unanswered for 5 s), then again to select a server for its retry:
 * 8 to 9 s measured, where the README promises about 2.5. Every command the
 * demo sends is a single-document read or write, answered in milliseconds.
 */
const SOCKET_TIMEOUT_MS = 2_500;
/** How often the driver checks the server: how soon an outage, and the end of one, is seen without a request. */
const HEARTBEAT_FREQUENCY_MS = 2_000;

/**
 * With these, a request on a MongoDB that stops answering is answered 503
 * after about 2.5 s (its reply's wait), the monitor sees the outage within
 * about 4.5 s (a check every 2 s, answered within 2.5 s), and MongoDB is
 * selectable again within about as long once it answers. Reads are not
 * retried: a read's retry would wait once more for the same silent server
 * (5 s in all). Writes are: a retried write is how a reply lost in a failover
 * is recovered, and the library settles its own lost replies (lost-reply.ts).
 */
export const MONGODB_CLIENT_OPTIONS: Readonly<MongoClientOptions> = {
  serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS,
  connectTimeoutMS: CONNECT_TIMEOUT_MS,
  socketTimeoutMS: SOCKET_TIMEOUT_MS,
  heartbeatFrequencyMS: HEARTBEAT_FREQUENCY_MS,
  retryReads: false,
};
