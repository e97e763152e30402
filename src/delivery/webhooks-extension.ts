/**
 * Webhooks inside the running service: the registry, one runner per hook reading from its own position through the
 * service's followers, the `/v1/webhooks` API, and, with BRIDGE_COMMIT_HOLD=semi-sync, the commit hold on the live
 * reader's transactions.
 */
import type mysql from 'mysql2/promise';
import type { ReadinessCheck } from '../api/operations.js';
import { webhookApi } from '../api/webhooks/index.js';
import type { BridgeExtension, BridgeService } from '../service/service.js';
import { resolveStartPosition } from '../service/source-info.js';
import { WebhookStore } from '../state/webhooks.js';
import { CommitHold } from './commit-hold.js';
import type { HookFeed } from './webhook-feed.js';
import { WebhookManager } from './webhook-manager.js';
import { webhookMetrics } from './webhook-metrics.js';

/** Jitter of every retry delay (CONTRACT.md section 3: up to 10%). */
const RETRY_JITTER = 0.1;

/** The webhooks extension of the service; `manager` and `hold` are set once started. */
export interface WebhooksExtension extends BridgeExtension {
  readonly manager: WebhookManager | null;
  readonly hold: CommitHold | null;
}

/** Creates the extension (one per process). */
export function webhooksExtension(): WebhooksExtension {
  let manager: WebhookManager | null = null;
  let hold: CommitHold | null = null;
  return {
    name: 'webhooks',
    get manager() {
      return manager;
    },
    get hold() {
      return hold;
    },
    async start(service: BridgeService) {
      const { config, state, logger } = service;
      const followers = service.followers('webhooks');
      const feed: HookFeed = {
        read: (after, signal) => followers.read(after, signal),
        // The server's binlog end now: a hook registered now gets every transaction committed after this.
        end: async () => {
          const conn = await service.sourcePool.getConnection();
          try {
            return await resolveStartPosition(conn as unknown as mysql.Connection, { kind: 'latest' });
          } finally {
            conn.release();
          }
        },
      };
      const log = logger.child({ module: 'webhooks' });
      if (config.commitHold === 'semi-sync') {
        hold = new CommitHold({
          sendAck: (position) => service.sendSemiSyncAck(position),
          hooks: () => manager?.heldHooks() ?? [],
          log,
        });
      }
      manager = new WebhookManager({
        store: new WebhookStore(state.pool, state.positions),
        feed,
        policy: {
          delaysMs: config.webhook.retryScheduleMs,
          windowMs: config.webhook.retryWindowMs,
          jitter: RETRY_JITTER,
        },
        timeoutMs: config.webhook.timeoutMs,
        refuseInternalUrls: !config.webhook.allowPrivate,
        metrics: webhookMetrics(service.metrics.registry),
        log,
        hold: hold ?? undefined,
      });
      await manager.start();
    },
    plugins: () => [{ name: 'webhooks', plugin: webhookApi, options: { manager } }],
    onLiveTransaction(events, ackRequested) {
      hold?.onTransaction(events, ackRequested);
    },
    readiness(): ReadinessCheck[] {
      return hold ? [{ name: 'commit-hold', ok: true, detail: { pending: hold.pending, acks: hold.acksSent } }] : [];
    },
    async stop() {
      await manager?.stop();
    },
  };
}
