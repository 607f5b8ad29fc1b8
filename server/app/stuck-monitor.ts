/**
 * A way round a driver bug that kept the demo answering 503 long after
 * MongoDB was back. When MongoDB closes its connections, the driver's monitor
 * can send its check on a connection whose socket Node has already destroyed
 * while the socket's 'close' event is still to come: `socket.write` returns
 * false, no 'drain' or 'error' ever follows, and the driver waits for the
 * drain without a timeout (`Connection.writeCommand`, drivers 6.22 and 7.9).
 * That check never ends, and a monitor with a check in progress ignores every
 * request to check again, so the server stays unknown and every request is
 * a 503 until the process restarts.
 *
 * A working monitor settles a check (succeeded or failed) at least once per
 * heartbeat plus connect timeout. When the server is unknown and none has
 * settled for longer than that, the monitor is stuck: the client is closed
 * and connected again, which starts a new monitor. Requests during the
 * reconnection are answered 503, as during the outage before it.
 */
import type { MongoClient } from 'mongodb';
import { MONGODB_CLIENT_OPTIONS } from './mongodb-client-options.js';

/** Longer than a working monitor ever goes without settling a check, with room for a busy event loop. */
export const STUCK_MONITOR_AFTER_MS = MONGODB_CLIENT_OPTIONS.heartbeatFrequencyMS! + MONGODB_CLIENT_OPTIONS.connectTimeoutMS! + 3_000;
const CHECK_EVERY_MS = 1_000;

/**
 * Watches `client`'s monitoring and reconnects the client when its monitor is
 * stuck (see above); `onRestart` is told first. Returns a function that stops
 * watching.
 */
export function restartStuckMonitoring(client: MongoClient, onRestart: () => void): () => void {
  let lastSettled = Date.now();
  let unknown = false;
  let busy = false;
  /** False after a reconnection that failed: the client has no monitor at all until it connects. */
  let connected = true;
  const settled = () => (lastSettled = Date.now());
  client.on('serverHeartbeatSucceeded', settled);
  client.on('serverHeartbeatFailed', settled);
  client.on('serverDescriptionChanged', ({ newDescription }) => (unknown = newDescription.type === 'Unknown'));

  // The stores hold collections of this client, which work again once it is connected: no new client.
  const connect = (): Promise<void> =>
    client.connect().then(
      () => void (connected = true),
      () => void (connected = false),
    );
  const timer = setInterval(() => {
    if (busy) return;
    if (connected && (!unknown || Date.now() - lastSettled < STUCK_MONITOR_AFTER_MS)) return;
    busy = true;
    if (connected) onRestart();
    const restart = connected ? client.close().then(connect, connect) : connect();
    void restart.finally(() => {
      busy = false;
      settled();
    });
  }, CHECK_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
