/**
 * The webhook registry and delivery log in the state database (tables of `migrations/0002-webhooks.ts`); a hook's
 * position is the consumer position `webhook:<id>`.
 * Secrets are stored as issued: the bridge must sign with them, so hashing is not an option; protect the state DB.
 */
import { randomBytes } from 'node:crypto';
import type { Pool, RowDataPacket, ResultSetHeader } from 'mysql2/promise';
import type { ResumePosition } from '../capture/types.js';
import type { PositionStore } from './positions.js';

/** The two guarantee levels of CONTRACT.md section 1. */
export type Guarantee = 'transactional' | 'post-commit';

/** Where a hook stands after a transaction, as saved with its acknowledgement. */
export interface TxPosition {
  end: ResumePosition;
  txid: string;
  commitTime: number;
}

/** A delivery acknowledged at its first attempt, as the hot path logs it. */
export interface FirstTimeDelivery {
  messageId: string;
  txid: string;
  eventIds: string[];
  contentType: string;
  attempt: AttemptRecord;
}

/** A registered webhook as the API shows it (never with its secret). */
export interface Webhook {
  id: string;
  url: string;
  guarantee: Guarantee;
  /** Event types it receives; `null` = every type but RowChanged. */
  types: string[] | null;
  /** Only events about this patient (`person.uuid`). */
  patient: string | null;
  description: string | null;
  enabled: boolean;
  /** Why it was disabled (410 from the receiver, an admin), when it is. */
  disabledReason: string | null;
  /** The last transaction it acknowledged. */
  position: ResumePosition;
  /** Unix ms. */
  createdAt: number;
  updatedAt: number;
  /** Unix ms until which deliveries are signed with the previous secret too. */
  previousSecretUntil: number | null;
}

/** What a registration needs. */
export interface NewWebhook {
  url: string;
  guarantee: Guarantee;
  types?: string[] | null;
  patient?: string | null;
  description?: string | null;
}

/** Fields PATCH may change. */
export interface WebhookPatch {
  url?: string;
  types?: string[] | null;
  patient?: string | null;
  description?: string | null;
  enabled?: boolean;
}

/** Final and intermediate states of a delivery. */
export type DeliveryStatus = 'pending' | 'delivered' | 'dead' | 'skipped' | 'gone' | 'cancelled';

/** One attempt in a delivery's history. */
export interface AttemptRecord {
  /** Unix ms. */
  at: number;
  status: number | null;
  latencyMs: number;
  error?: string;
}

/** One delivery: one request body (a transaction's batch, or one event), with all its attempts. */
export interface Delivery {
  id: string;
  hookId: string;
  /** The `webhook-id` header. */
  messageId: string;
  txid: string;
  eventIds: string[];
  status: DeliveryStatus;
  attempts: number;
  history: AttemptRecord[];
  lastStatus: number | null;
  lastLatencyMs: number | null;
  lastError: string | null;
  firstAttemptAt: number | null;
  lastAttemptAt: number | null;
  nextAttemptAt: number | null;
  finishedAt: number | null;
  note: string | null;
  contentType: string;
}

/** A delivery with its body, for re-sending. */
export interface DeliveryWithBody extends Delivery {
  body: string | null;
}

/** Keep this many attempts in a delivery's history. */
const HISTORY_LIMIT = 20;
/** Finished (delivered/skipped/cancelled) deliveries kept per hook; older ones are pruned. Dead letters are kept. */
export const DELIVERY_LOG_KEEP = 1000;
/** How long the previous secret keeps signing after a rotation. */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;

/** A new hook id: `wh_` + 20 url-safe random characters. */
export function newWebhookId(): string {
  return 'wh_' + randomBytes(15).toString('base64url');
}

/** Reads and writes webhooks and deliveries. One instance per process; all methods are safe to call concurrently. */
export class WebhookStore {
  readonly #db: Pool;
  readonly #positions: PositionStore;
  readonly #now: () => number;

  constructor(db: Pool, positions: PositionStore, now: () => number = Date.now) {
    this.#db = db;
    this.#positions = positions;
    this.#now = now;
  }

  /** Registers a hook starting after `position`; returns it. The caller generated and shows the secret. */
  async create(input: NewWebhook, secret: string, position: ResumePosition): Promise<Webhook> {
    const id = newWebhookId();
    const now = this.#now();
    await this.#db.query(
      `INSERT INTO webhook (id, url, guarantee, types, patient, description, enabled, secret, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)`,
      [
        id,
        input.url,
        input.guarantee,
        input.types ? JSON.stringify(input.types) : null,
        input.patient ?? null,
        input.description ?? null,
        secret,
        now,
        now,
      ],
    );
    await this.setPosition(id, position, null, null);
    return (await this.get(id))!;
  }

  /** Every hook, oldest first. */
  async list(): Promise<Webhook[]> {
    const [rows] = await this.#db.query<RowDataPacket[]>('SELECT * FROM webhook ORDER BY created_at, id');
    const positions = new Map((await this.#positions.list()).map((p) => [p.consumer, p.position]));
    return rows.map((r) => toWebhook(r, positions.get(consumerName(r.id))));
  }

  /** One hook, or null. */
  async get(id: string): Promise<Webhook | null> {
    const [rows] = await this.#db.query<RowDataPacket[]>('SELECT * FROM webhook WHERE id = ?', [id]);
    if (!rows.length) return null;
    return toWebhook(rows[0], (await this.#positions.get(consumerName(id)))?.position);
  }

  /** The secrets to sign with now: the current one, then the previous one while its overlap lasts. */
  async secrets(id: string): Promise<string[]> {
    const [rows] = await this.#db.query<RowDataPacket[]>(
      'SELECT secret, previous_secret, previous_secret_until FROM webhook WHERE id = ?',
      [id],
    );
    if (!rows.length) return [];
    const r = rows[0];
    const out = [String(r.secret)];
    if (r.previous_secret && Number(r.previous_secret_until) > this.#now()) out.push(String(r.previous_secret));
    return out;
  }

  /** Applies a patch; returns the hook, or null when it does not exist. */
  async update(id: string, patch: WebhookPatch): Promise<Webhook | null> {
    const sets: string[] = [];
    const args: unknown[] = [];
    if (patch.url !== undefined) {
      sets.push('url = ?');
      args.push(patch.url);
    }
    if (patch.types !== undefined) {
      sets.push('types = ?');
      args.push(patch.types ? JSON.stringify(patch.types) : null);
    }
    if (patch.patient !== undefined) {
      sets.push('patient = ?');
      args.push(patch.patient);
    }
    if (patch.description !== undefined) {
      sets.push('description = ?');
      args.push(patch.description);
    }
    if (patch.enabled !== undefined) {
      sets.push('enabled = ?', 'disabled_reason = ?');
      args.push(patch.enabled ? 1 : 0, patch.enabled ? null : 'disabled by an admin');
    }
    sets.push('updated_at = ?');
    args.push(this.#now(), id);
    const [res] = await this.#db.query<ResultSetHeader>(`UPDATE webhook SET ${sets.join(', ')} WHERE id = ?`, args);
    return res.affectedRows ? this.get(id) : null;
  }

  /** Disables a hook (410 from the receiver). */
  async disable(id: string, reason: string): Promise<void> {
    await this.#db.query('UPDATE webhook SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE id = ?', [
      reason,
      this.#now(),
      id,
    ]);
  }

  /** Deletes a hook and its delivery log; false when it did not exist. */
  async delete(id: string): Promise<boolean> {
    const [res] = await this.#db.query<ResultSetHeader>('DELETE FROM webhook WHERE id = ?', [id]);
    await this.#db.query('DELETE FROM webhook_delivery WHERE hook_id = ?', [id]);
    await this.#positions.delete(consumerName(id));
    return res.affectedRows > 0;
  }

  /** Replaces the secret; the old one keeps signing for 24 h. Returns null for an unknown hook. */
  async rotateSecret(id: string, secret: string): Promise<{ secret: string; previousSecretUntil: number } | null> {
    const now = this.#now();
    const until = now + ROTATION_OVERLAP_MS;
    const [res] = await this.#db.query<ResultSetHeader>(
      `UPDATE webhook SET previous_secret = secret, previous_secret_until = ?, secret = ?, updated_at = ? WHERE id = ?`,
      [until, secret, now, id],
    );
    return res.affectedRows ? { secret, previousSecretUntil: until } : null;
  }

  /** Moves a hook's position (after an acknowledged, skipped or non-matching transaction). */
  async setPosition(
    id: string,
    position: ResumePosition,
    txid: string | null = null,
    commitTime: number | null = null,
  ): Promise<void> {
    await this.#positions.save([{ consumer: consumerName(id), txid, position, commitTime }]);
  }

  /**
   * Logs deliveries acknowledged at their first attempt, in one multi-row INSERT, and moves the position (both writes
   * in parallel: a crash between them only re-delivers). This is the hot path of a healthy hook: runners batch it.
   */
  async recordFirstTimeDeliveries(
    hookId: string,
    ds: ReadonlyArray<FirstTimeDelivery>,
    position: TxPosition | null,
  ): Promise<void> {
    const finished = this.#now();
    await Promise.all([
      ds.length
        ? this.#db.query(
            `INSERT INTO webhook_delivery (hook_id, message_id, txid, event_ids, status, attempts, history, last_status,
               last_latency_ms, first_attempt_at, last_attempt_at, finished_at, content_type) VALUES ?`,
            [
              ds.map((d) => [
                hookId,
                d.messageId,
                d.txid,
                JSON.stringify(d.eventIds),
                'delivered',
                1,
                JSON.stringify([d.attempt]),
                d.attempt.status,
                d.attempt.latencyMs,
                d.attempt.at,
                d.attempt.at,
                finished,
                d.contentType,
              ]),
            ],
          )
        : undefined,
      position ? this.setPosition(hookId, position.end, position.txid, position.commitTime) : undefined,
    ]);
  }

  /**
   * Opens a delivery log entry in `pending` with its body and its first (failed) attempt, in one statement so the log
   * never shows a pending delivery without attempts. Returns its id.
   */
  async openDelivery(
    hookId: string,
    d: { messageId: string; txid: string; eventIds: string[]; contentType: string; body: string },
    attempt: AttemptRecord,
    nextAttemptAt: number | null,
  ): Promise<string> {
    const [res] = await this.#db.query<ResultSetHeader>(
      `INSERT INTO webhook_delivery (hook_id, message_id, txid, event_ids, status, attempts, history, last_status,
         last_latency_ms, last_error, first_attempt_at, last_attempt_at, next_attempt_at, body, content_type)
       VALUES (?, ?, ?, ?, 'pending', 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        hookId,
        d.messageId,
        d.txid,
        JSON.stringify(d.eventIds),
        JSON.stringify([attempt]),
        attempt.status,
        attempt.latencyMs,
        attempt.error ?? null,
        attempt.at,
        attempt.at,
        nextAttemptAt,
        d.body,
        d.contentType,
      ],
    );
    return String(res.insertId);
  }

  /** Appends an attempt to a delivery's log and sets when the next one is due (null: none planned). */
  async recordAttempt(deliveryId: string, attempt: AttemptRecord, nextAttemptAt: number | null): Promise<void> {
    const [rows] = await this.#db.query<RowDataPacket[]>('SELECT history FROM webhook_delivery WHERE id = ?', [
      deliveryId,
    ]);
    if (!rows.length) return;
    const history = [...parseJson<AttemptRecord[]>(rows[0].history, []), attempt].slice(-HISTORY_LIMIT);
    await this.#db.query(
      `UPDATE webhook_delivery SET attempts = attempts + 1, history = ?, last_status = ?, last_latency_ms = ?,
         last_error = ?, first_attempt_at = COALESCE(first_attempt_at, ?), last_attempt_at = ?, next_attempt_at = ?
       WHERE id = ?`,
      [
        JSON.stringify(history),
        attempt.status,
        attempt.latencyMs,
        attempt.error ?? null,
        attempt.at,
        attempt.at,
        nextAttemptAt,
        deliveryId,
      ],
    );
  }

  /**
   * Closes a delivery. The body is kept only for dead letters (to retry them later). `position`, when given, moves the
   * hook's position afterwards.
   */
  async finishDelivery(
    hookId: string,
    deliveryId: string,
    status: Exclude<DeliveryStatus, 'pending'>,
    opts: { note?: string; position?: TxPosition | null } = {},
  ): Promise<void> {
    await this.#db.query(
      `UPDATE webhook_delivery SET status = ?, finished_at = ?, next_attempt_at = NULL,
         note = COALESCE(?, note), body = IF(? = 'dead', body, NULL)
       WHERE id = ? AND hook_id = ?`,
      [status, this.#now(), opts.note ?? null, status, deliveryId, hookId],
    );
    const p = opts.position;
    if (p) await this.setPosition(hookId, p.end, p.txid, p.commitTime);
  }

  /** Puts a dead letter back to `pending` for a manual retry; false when it is not dead. */
  async reopenDead(hookId: string, deliveryId: string, note: string): Promise<boolean> {
    const [res] = await this.#db.query<ResultSetHeader>(
      `UPDATE webhook_delivery SET status = 'pending', finished_at = NULL, note = ? WHERE id = ? AND hook_id = ? AND status = 'dead'`,
      [note, deliveryId, hookId],
    );
    return res.affectedRows > 0;
  }

  /** One delivery of a hook, with its body. */
  async getDelivery(hookId: string, deliveryId: string): Promise<DeliveryWithBody | null> {
    if (!/^\d{1,19}$/.test(deliveryId)) return null;
    const [rows] = await this.#db.query<RowDataPacket[]>(
      'SELECT * FROM webhook_delivery WHERE id = ? AND hook_id = ?',
      [deliveryId, hookId],
    );
    return rows.length ? { ...toDelivery(rows[0]), body: rows[0].body ?? null } : null;
  }

  /** A hook's delivery log, newest first. */
  async listDeliveries(
    hookId: string,
    opts: { status?: DeliveryStatus; limit?: number; before?: string } = {},
  ): Promise<Delivery[]> {
    const where = ['hook_id = ?'];
    const args: unknown[] = [hookId];
    if (opts.status) {
      where.push('status = ?');
      args.push(opts.status);
    }
    if (opts.before) {
      where.push('id < ?');
      args.push(opts.before);
    }
    args.push(opts.limit ?? 100);
    const [rows] = await this.#db.query<RowDataPacket[]>(
      `SELECT id, hook_id, message_id, txid, event_ids, status, attempts, history, last_status, last_latency_ms,
         last_error, first_attempt_at, last_attempt_at, next_attempt_at, finished_at, note, content_type
       FROM webhook_delivery WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`,
      args,
    );
    return rows.map(toDelivery);
  }

  /** Pending deliveries of a hook, oldest first (to resume after a restart). */
  async pendingDeliveries(hookId: string): Promise<DeliveryWithBody[]> {
    const [rows] = await this.#db.query<RowDataPacket[]>(
      `SELECT * FROM webhook_delivery WHERE hook_id = ? AND status = 'pending' ORDER BY id`,
      [hookId],
    );
    return rows.map((r) => ({ ...toDelivery(r), body: r.body ?? null }));
  }

  /** Drops finished deliveries beyond the newest `keep` of a hook; dead letters stay until retried or the hook goes. */
  async prune(hookId: string, keep = DELIVERY_LOG_KEEP): Promise<void> {
    const [rows] = await this.#db.query<RowDataPacket[]>(
      'SELECT id FROM webhook_delivery WHERE hook_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?',
      [hookId, keep],
    );
    if (!rows.length) return;
    await this.#db.query(
      `DELETE FROM webhook_delivery WHERE hook_id = ? AND id <= ? AND status IN ('delivered','skipped','cancelled','gone')`,
      [hookId, rows[0].id],
    );
  }
}

function parseJson<T>(text: unknown, fallback: T): T {
  if (text === null || text === undefined) return fallback;
  try {
    return JSON.parse(String(text)) as T;
  } catch {
    return fallback;
  }
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** The consumer name of a hook's position. */
export function consumerName(hookId: string): string {
  return `webhook:${hookId}`;
}

function toWebhook(r: RowDataPacket, position: ResumePosition | undefined): Webhook {
  return {
    id: r.id,
    url: r.url,
    guarantee: r.guarantee,
    types: parseJson<string[] | null>(r.types, null),
    patient: r.patient ?? null,
    description: r.description ?? null,
    enabled: Number(r.enabled) === 1,
    disabledReason: r.disabled_reason ?? null,
    // A hook always gets a position at registration; an empty one here means reset-positions removed it.
    position: position ?? { binlog: { file: '', pos: 0 } },
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    previousSecretUntil: num(r.previous_secret_until),
  };
}

function toDelivery(r: RowDataPacket): Delivery {
  return {
    id: String(r.id),
    hookId: r.hook_id,
    messageId: r.message_id,
    txid: r.txid,
    eventIds: parseJson<string[]>(r.event_ids, []),
    status: r.status,
    attempts: Number(r.attempts),
    history: parseJson<AttemptRecord[]>(r.history, []),
    lastStatus: num(r.last_status),
    lastLatencyMs: num(r.last_latency_ms),
    lastError: r.last_error ?? null,
    firstAttemptAt: num(r.first_attempt_at),
    lastAttemptAt: num(r.last_attempt_at),
    nextAttemptAt: num(r.next_attempt_at),
    finishedAt: num(r.finished_at),
    note: r.note ?? null,
    contentType: r.content_type,
  };
}
