/** The tables `npm run bench:http` prints: every figure, and its ratio to the reference's. */
import os from 'node:os';
import { percentile } from './http-load.js';
import type { Measurement, Phase } from './http-phases.js';

const COLUMNS = ['req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'DB trips/req', 'CPU ms/req', 'DB CPU ms/req'];

/** The figures of one measurement, in the order of COLUMNS. */
function figures(m: Measurement): number[] {
  const n = m.load.requests;
  const trips = Object.values(m.commands).reduce((sum, count) => sum + count, 0);
  return [
    (n * 1000) / m.load.wallMs,
    percentile(m.load.latenciesMs, 50),
    percentile(m.load.latenciesMs, 95),
    percentile(m.load.latenciesMs, 99),
    trips / n,
    m.serverCpuMs / n,
    m.databaseCpuMs === null ? NaN : m.databaseCpuMs / n,
  ];
}

function format(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

/** One phase: a row per target (`reference` among them), the round trips by command, and demo / baseline. */
export function printPhase(phase: Phase, measurements: Measurement[]): void {
  const reference = figures(measurements.find((m) => m.target === 'reference')!);
  const rows = measurements.map((m) => [
    m.target,
    String(m.load.requests),
    ...figures(m).map((value, column) => `${format(value)} (${format(value / reference[column]!)}x)`),
  ]);
  const header = ['', 'requests', ...COLUMNS];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  console.log(`\n${phase.name}`);
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  for (const m of measurements) {
    const breakdown = Object.entries(m.commands)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, count]) => `${name} ${format(count / m.load.requests)}`)
      .join(', ');
    console.log(`  ${m.target}, round trips per request: ${breakdown || 'none'}`);
  }
  const demo = measurements.find((m) => m.target === 'demo');
  const baseline = measurements.find((m) => m.target === 'baseline');
  if (demo && baseline) {
    const [demoFigures, baselineFigures] = [figures(demo), figures(baseline)];
    console.log(
      `  demo / baseline: ${format(demoFigures[0]! / baselineFigures[0]!)}x requests/s, ` +
        `${format(demoFigures[1]! / baselineFigures[1]!)}x p50, ${format(demoFigures[4]! / baselineFigures[4]!)}x round trips`,
    );
  }
}

/** The machine, and how busy it is (other work on it moves every figure). */
export function describeMachine(mongodb: string): string {
  const cpus = os.cpus();
  const load = os.loadavg().map((value) => value.toFixed(1)).join(' ');
  return `${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), load average ${load}, Node.js ${process.version}, MongoDB: ${mongodb}`;
}
