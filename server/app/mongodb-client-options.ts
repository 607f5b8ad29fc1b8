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
const CONNECT_TIMEOUT_MS = 5_000;
/** How often the driver checks the server: how soon an outage, and the end of one, is seen without a request. */
const HEARTBEAT_FREQUENCY_MS = 2_000;

/**
 * With these, a MongoDB that stops answering is seen within about 7 s (a
 * check every 2 s, answered within 5 s), the requests waiting on it are
 * interrupted (503), and it is selectable again within about as long once it
 * answers.
 */
export const MONGODB_CLIENT_OPTIONS: Readonly<MongoClientOptions> = {
  serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS,
  connectTimeoutMS: CONNECT_TIMEOUT_MS,
  heartbeatFrequencyMS: HEARTBEAT_FREQUENCY_MS,
};
