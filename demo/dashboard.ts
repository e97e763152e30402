/**
 * The demo's terminal view: what runs where, and a live count of events per type. On a TTY it redraws in place once
 * a second; otherwise (a pipe, a CI log) it prints one summary line every few seconds.
 */
import type { EventCounter } from './event-counter.js';
import type { ReceiverStats } from './receiver.js';
import type { TrafficStats } from './traffic.js';

export interface DashboardInput {
  header: string[];
  counter: EventCounter;
  receiver: ReceiverStats;
  traffic: TrafficStats;
}

export interface Dashboard {
  stop(): void;
}

const ESC = '\x1b[';

/** Starts rendering `input` to stdout. */
export function startDashboard(input: DashboardInput, out: NodeJS.WriteStream = process.stdout): Dashboard {
  const tty = out.isTTY === true;
  let drawnLines = 0;
  const started = Date.now();
  for (const line of input.header) out.write(`${line}\n`);
  out.write('\n');

  const render = () => {
    const { counter, receiver, traffic } = input;
    const seconds = Math.max(1, (Date.now() - started) / 1000);
    const rows = [...counter.counts.entries()].sort((a, b) => b[1] - a[1]);
    if (!tty) {
      const top = rows.map(([t, n]) => `${t}=${n}`).join(' ');
      out.write(
        `[demo] ${traffic.transactions} tx written, ${counter.total} events streamed (${top || 'none yet'}), ` +
          `webhook ${receiver.requests} requests/${receiver.events} events\n`,
      );
      return;
    }
    const lines: string[] = [];
    lines.push(
      `  traffic   ${traffic.transactions.toLocaleString()} transactions (${(traffic.transactions / seconds).toFixed(1)}/s)` +
        (traffic.errors ? `, ${traffic.errors} failed (last: ${traffic.lastError})` : ''),
    );
    lines.push(
      `  stream    ${counter.connected ? 'connected' : 'reconnecting'} to /v1/stream, ${counter.total.toLocaleString()} events`,
    );
    lines.push(
      `  webhook   ${receiver.requests.toLocaleString()} requests, ${receiver.events.toLocaleString()} events` +
        (receiver.badSignatures ? `, ${receiver.badSignatures} with a bad signature` : ', every signature verified'),
    );
    lines.push('');
    lines.push('  events per type (WebSocket)');
    const width = Math.max(24, ...rows.map(([t]) => t.length + 2));
    for (const [type, n] of rows) lines.push(`    ${type.padEnd(width)}${n.toLocaleString().padStart(8)}`);
    if (rows.length === 0) lines.push('    (none yet)');
    lines.push('');
    lines.push('  Ctrl-C stops everything.');
    if (drawnLines > 0) out.write(`${ESC}${drawnLines}A${ESC}0J`);
    out.write(lines.join('\n') + '\n');
    drawnLines = lines.length;
  };
  render();
  const timer = setInterval(render, tty ? 1000 : 5000);
  return {
    stop() {
      clearInterval(timer);
      render();
    },
  };
}
