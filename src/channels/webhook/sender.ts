/**
 * Sends one signed webhook request with undici and classifies the answer. Knows nothing about retries or positions:
 * `delivery` decides what an outcome means for the hook.
 */
import { Agent, request } from 'undici';
import { signatureHeaders } from './signing.js';

/** What one attempt produced. */
export type AttemptOutcome =
  /** 2xx: acknowledged. */
  | { kind: 'ok'; status: number; latencyMs: number }
  /** 410 Gone: the receiver asks to be disabled. */
  | { kind: 'gone'; status: number; latencyMs: number }
  /** Anything else, a timeout or a network error; `retryAfterMs` when a 429/503 sent `Retry-After`. */
  | { kind: 'retry'; status: number | null; latencyMs: number; error: string; retryAfterMs?: number };

/** One request to send. */
export interface WebhookRequest {
  url: string;
  /** Stable across retries of the same delivery: the receiver's idempotency key. */
  webhookId: string;
  /** Current secret first, then the previous one while a rotation is in its 24 h overlap. */
  secrets: readonly string[];
  contentType: 'application/cloudevents+json' | 'application/cloudevents-batch+json';
  body: string;
}

/** Options of a sender. */
export interface WebhookSenderOptions {
  /** Time the receiver has to answer (headers and body), ms. */
  timeoutMs: number;
  /** Clock for `webhook-timestamp`, unix ms; tests may pin it. */
  now?: () => number;
  /** Keep-alive connections per origin. One is enough for an ordered hook. */
  connections?: number;
}

const USER_AGENT = 'openmrs-event-bridge';
/** Keep at most this much of a failing response body in the delivery log. */
const MAX_ERROR_BODY = 512;

/** Sends signed webhook requests over pooled keep-alive connections. */
export class WebhookSender {
  readonly #agent: Agent;
  readonly #timeoutMs: number;
  readonly #now: () => number;

  constructor(options: WebhookSenderOptions) {
    this.#timeoutMs = options.timeoutMs;
    this.#now = options.now ?? Date.now;
    this.#agent = new Agent({
      connections: options.connections ?? 16,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: 30_000,
    });
  }

  /** Sends one attempt. Never throws: every failure is an outcome. */
  async send(req: WebhookRequest): Promise<AttemptOutcome> {
    const timestamp = Math.floor(this.#now() / 1000);
    const headers = {
      ...signatureHeaders(req.secrets, req.webhookId, timestamp, req.body),
      'content-type': req.contentType,
      'user-agent': USER_AGENT,
    };
    const started = performance.now();
    try {
      const res = await request(req.url, {
        method: 'POST',
        headers,
        body: req.body,
        dispatcher: this.#agent,
        // undici follows no redirects without the redirect interceptor: a hook's URL is what the admin registered.
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      const status = res.statusCode;
      const text = status >= 200 && status < 300 ? (await res.body.dump(), '') : await readSome(res.body);
      const latencyMs = performance.now() - started;
      if (status >= 200 && status < 300) return { kind: 'ok', status, latencyMs };
      if (status === 410) return { kind: 'gone', status, latencyMs };
      const outcome: AttemptOutcome = {
        kind: 'retry',
        status,
        latencyMs,
        error: `HTTP ${status}${text ? `: ${text}` : ''}`,
      };
      if (status === 429 || status === 503) {
        const after = parseRetryAfter(res.headers['retry-after'], this.#now());
        if (after !== undefined) outcome.retryAfterMs = after;
      }
      return outcome;
    } catch (err: any) {
      const latencyMs = performance.now() - started;
      const timedOut = err?.name === 'TimeoutError' || /timeout/i.test(String(err?.code ?? err?.name ?? ''));
      const error = timedOut
        ? `timeout after ${this.#timeoutMs} ms`
        : String(err?.cause?.code ?? err?.code ?? err?.message ?? err);
      return { kind: 'retry', status: null, latencyMs, error };
    }
  }

  /** Closes pooled connections. */
  async close(): Promise<void> {
    await this.#agent.close();
  }
}

async function readSome(body: { text(): Promise<string> }): Promise<string> {
  try {
    const text = await body.text();
    return text.length > MAX_ERROR_BODY ? `${text.slice(0, MAX_ERROR_BODY)}...` : text;
  } catch {
    return '';
  }
}

/**
 * `Retry-After` in ms: delta-seconds or an HTTP date (RFC 9110 10.2.3). Undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
