// What a bench run writes: the JSON record, the Markdown table and an SVG chart of the throughput ratios.
import { readFile, writeFile } from 'node:fs/promises';
import { emulatorStartLine, type EmulatorStartResult } from './emulator-start.js';
import type { AdapterName, ServerScenario } from './shared.js';

export interface ScenarioResult {
  name: ServerScenario;
  adapter: AdapterName;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Median of the per-round ratios to bare, and their spread (min and max). */
  ratioToBare: number;
  ratioMin: number;
  ratioMax: number;
  /** The server process's CPU time per request (µs, median over rounds), and its ratio to bare's (lower is better). */
  cpuUsPerRequest: number;
  cpuToBare: number;
  non2xx: number;
}

export interface RunSettings {
  rounds: number;
  /** Pairs of processes (the scenario's server and a bare server of its own) per scenario and adapter, loaded in turn. */
  replicas: number;
  measureSec: number;
  connections: number;
  quick: boolean;
  pinned: string;
}

export interface BenchReport {
  settings: RunSettings;
  emulatorStart?: EmulatorStartResult;
  date: string;
  machine: string;
  scenarios: ScenarioResult[];
  targets: { name: string; goal: string; measured: string; met: boolean }[];
  hitCostByUsers: { stack: 'ours' | 'msal-node'; users: number; medianMs: number }[];
  coldBurst: { oursTokenRequests: number; msalTokenRequests: number };
  memory: { stack: string; entries: number; heapMB: number; perEntryBytes: number; perEntryOverheadBytes?: number }[];
  missPath: { samples: number; oursMedianMs: number; bareMedianMs: number; ratio: number };
  redis: { l1Hit: { p50Ms: number; p99Ms: number }; l2Hit: { p50Ms: number; p99Ms: number }; exchange: { p50Ms: number; p99Ms: number }; twoInstancesColdExchangesPerUser: number } | null;
}

export function markdown(report: BenchReport): string {
  const rows = report.scenarios.map((s) => `| ${s.name} | ${s.adapter} | ${Math.round(s.rps)} | ${s.p50Ms} | ${s.p99Ms} | ${s.ratioToBare.toFixed(3)} | ${s.ratioMin.toFixed(2)}–${s.ratioMax.toFixed(2)} | ${s.cpuUsPerRequest.toFixed(1)} | ${s.cpuToBare.toFixed(2)} |`);
  const { settings } = report;
  const targets = report.targets.map((t) => `| ${t.name} | ${t.goal} | ${t.measured} | ${t.met ? 'yes' : 'no'} |`);
  const hits = report.hitCostByUsers.map((h) => `| ${h.stack} | ${h.users} | ${h.medianMs.toFixed(4)} |`);
  return [
    `Run ${report.date} on ${report.machine}; ${settings.rounds} round(s), ${settings.replicas} pair(s) of server processes per scenario and adapter (its server and a bare server of its own, started and loaded together) measured in turn, each scenario loaded for ${settings.measureSec} s at the same time as its bare, both servers sharing one core, and its throughput divided by bare's (order rotated per round), ${settings.connections} connections per server${settings.quick ? ' (--quick: indicative only)' : ''}; ${settings.pinned}; medians of the paired ratios, their spread min–max.`,
    '',
    '![throughput ratio to bare per scenario](latest.svg)',
    '',
    '| scenario | adapter | req/s | p50 ms | p99 ms | ratio to bare | spread | server CPU µs/req | CPU to bare |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    report.emulatorStart ? emulatorStartLine(report.emulatorStart) : 'Emulator start: not measured.',
    '',
    '| cache hit | users in cache | median ms |',
    '|---|---|---|',
    ...hits,
    '',
    `Cold burst (100 concurrent calls, one user, empty cache): ours ${report.coldBurst.oursTokenRequests} token request(s), raw msal-node ${report.coldBurst.msalTokenRequests}.`,
    '',
    `Memory: ${report.memory.map((m) => `${m.stack} ${m.entries} entries → ${m.heapMB.toFixed(1)} MB (${Math.round(m.perEntryBytes)} B/entry${m.perEntryOverheadBytes !== undefined ? `, ${Math.round(m.perEntryOverheadBytes)} B beyond the token` : ''})`).join('; ')}.`,
    '',
    `Miss path (median of ${report.missPath.samples - 5} alternating exchanges): ours ${report.missPath.oursMedianMs.toFixed(2)} ms, bare acquireTokenOnBehalfOf ${report.missPath.bareMedianMs.toFixed(2)} ms, ratio ${report.missPath.ratio.toFixed(3)}.`,
    '',
    report.redis
      ? `Redis cache (L1 memory + L2 Redis): L1 hit p50 ${report.redis.l1Hit.p50Ms.toFixed(3)} ms / p99 ${report.redis.l1Hit.p99Ms.toFixed(3)} ms; L2 hit p50 ${report.redis.l2Hit.p50Ms.toFixed(3)} ms / p99 ${report.redis.l2Hit.p99Ms.toFixed(3)} ms; exchange p50 ${report.redis.exchange.p50Ms.toFixed(2)} ms / p99 ${report.redis.exchange.p99Ms.toFixed(2)} ms; 2 instances x 50 concurrent cold calls: ${report.redis.twoInstancesColdExchangesPerUser} exchange(s) per user.`
      : 'Redis cache: not measured (no Redis answered).',
    '',
    '| target | goal | measured | met |',
    '|---|---|---|---|',
    ...targets,
    '',
  ].join('\n');
}


const CHART_SCENARIOS: ServerScenario[] = ['bare+https-history', 'bare+guard-history', 'noop-guard', 'noop-guard+param', 'guard', 'guard+exchange-history', 'guard+downstream-hit', 'passport-azure-ad', 'passport-jwt'];
const escapeXml = (text: string) => text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

/** A bar per scenario and adapter (ratio to bare, with its min–max spread), and the two goals as dashed lines. */
export function chartSvg(report: BenchReport): string {
  const width = 720;
  const rowHeight = 22;
  const left = 190;
  const plot = width - left - 60;
  const x = (ratio: number) => left + Math.min(1.1, Math.max(0, ratio)) / 1.1 * plot;
  const rows = CHART_SCENARIOS.flatMap((name) => report.scenarios.filter((s) => s.name === name));
  const height = 40 + rows.length * rowHeight + 30;
  const colour = (adapter: AdapterName) => (adapter === 'express' ? '#4e79a7' : '#f28e2b');
  const bars = rows.map((s, index) => {
    const y = 30 + index * rowHeight;
    return [
      `<text x="${left - 8}" y="${y + 14}" text-anchor="end">${escapeXml(`${s.name} (${s.adapter})`)}</text>`,
      `<rect x="${left}" y="${y + 3}" width="${(x(s.ratioToBare) - left).toFixed(1)}" height="${rowHeight - 6}" fill="${colour(s.adapter)}"/>`,
      `<line x1="${x(s.ratioMin).toFixed(1)}" x2="${x(s.ratioMax).toFixed(1)}" y1="${y + rowHeight / 2}" y2="${y + rowHeight / 2}" stroke="#222" stroke-width="1.5"/>`,
      `<text x="${(x(Math.max(s.ratioMax, s.ratioToBare)) + 6).toFixed(1)}" y="${y + 14}">${s.ratioToBare.toFixed(2)}</text>`,
    ].join('');
  });
  // The two goals sit close together: one label below the plot, the other above it.
  const goal = (ratio: number, label: string, labelY: number) =>
    `<line x1="${x(ratio).toFixed(1)}" x2="${x(ratio).toFixed(1)}" y1="24" y2="${height - 24}" stroke="#2a2" stroke-dasharray="4 3"/><text x="${x(ratio).toFixed(1)}" y="${labelY}" text-anchor="middle" fill="#2a2">${label}</text>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${left}" y="14" font-weight="bold">Throughput as a ratio of the bare endpoint (bar: median, line: spread over rounds)</text>`,
    ...bars,
    `<line x1="${x(1)}" x2="${x(1)}" y1="24" y2="${height - 24}" stroke="#999"/>`,
    goal(0.9, 'goal 0.90', height - 8),
    goal(0.95, '0.95', 28),
    `<text x="${left}" y="${height - 8}" fill="${colour('express')}">■ express</text><text x="${left + 80}" y="${height - 8}" fill="${colour('fastify')}">■ fastify</text>`,
    '</svg>',
    '',
  ].join('\n');
}

const SECTION = /(<!-- bench:start[^>]*-->\n)[\s\S]*?(<!-- bench:end -->)/;

/** Puts the run's Markdown between the README's bench markers, so the Performance section shows the committed run. */
export async function writeReadmeSection(readmePath: string, text: string): Promise<void> {
  const readme = await readFile(readmePath, 'utf8');
  if (!SECTION.test(readme)) throw new Error('README.md has no <!-- bench:start --> … <!-- bench:end --> section');
  const section = text.replace('](latest.svg)', '](bench/results/latest.svg)');
  await writeFile(readmePath, readme.replace(SECTION, (_, start: string, end: string) => `${start}\n${section.trim()}\n\n${end}`));
}
