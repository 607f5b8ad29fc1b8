/**
 * SIGKILL for a demo started with `startServerProcess`. That process is tsx,
 * which runs the server in a child of its own; killing tsx would leave the
 * server running. The server's pid is in every JSON log line it writes
 * (pino's `pid`), so the signal goes to the server itself: no shutdown hook
 * runs, and every open connection is cut, as when a machine dies.
 */
import type { ServerProcess } from './server-process.js';

/** The pid of the server behind `server`, from its JSON log lines (it needs LOG_LEVEL info or lower to log one). */
export function serverPid(server: ServerProcess): number {
  const match = /"pid":(\d+)/.exec(server.output());
  if (!match) throw new Error(`no pid in the server's log lines yet:\n${server.output()}`);
  return Number(match[1]);
}

/** Kills the server behind `server` with SIGKILL and resolves once tsx in front of it has exited too. */
export async function killServer(server: ServerProcess): Promise<void> {
  process.kill(serverPid(server), 'SIGKILL');
  // tsx exits as soon as its child is gone; stop() also reaps it.
  await server.stop();
}
