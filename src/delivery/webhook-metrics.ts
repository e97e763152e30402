/**
 * Webhook counters of CONTRACT.md section 6. Created on the service's registry, or found there when the service
 * already registered a metric of that name.
 */
import { Counter, register as defaultRegister, type Registry } from 'prom-client';

/** Outcome label of `openmrs_bridge_webhook_attempts_total`. */
export type AttemptLabel = 'ok' | 'retry' | 'failed' | 'dead';

/** What the runners count. */
export interface WebhookMetrics {
  attempt(hook: string, outcome: AttemptLabel): void;
  /** Events acknowledged by a webhook (channel `webhook`). */
  published(events: number): void;
  /** Events in failed attempts (channel `webhook`). */
  failed(events: number): void;
}

function counter(registry: Registry, name: string, help: string, labelNames: string[]): Counter<string> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<string>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

/** Prometheus-backed metrics on `registry` (prom-client's default one when omitted). */
export function webhookMetrics(registry: Registry = defaultRegister): WebhookMetrics {
  const attempts = counter(registry, 'openmrs_bridge_webhook_attempts_total', 'Webhook attempts by outcome', [
    'hook',
    'outcome',
  ]);
  const published = counter(registry, 'openmrs_bridge_channel_published_total', 'Events confirmed per channel', [
    'channel',
  ]);
  const failed = counter(registry, 'openmrs_bridge_channel_failed_total', 'Failed publish attempts per channel', [
    'channel',
  ]);
  return {
    attempt: (hook, outcome) => attempts.inc({ hook, outcome }),
    published: (n) => published.inc({ channel: 'webhook' }, n),
    failed: (n) => failed.inc({ channel: 'webhook' }, n),
  };
}
