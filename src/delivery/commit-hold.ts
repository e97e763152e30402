/**
 * The commit hold (BRIDGE_COMMIT_HOLD=semi-sync, CONTRACT.md section 7). The bridge is the source's semi-synchronous
 * replica; the server holds a writer's COMMIT until a replica acknowledges the transaction's binlog position. This
 * class decides when to send that ACK: once every matching transactional hook acknowledged the transaction, or at once
 * when none matches. The server treats an ACK as covering everything before it, so ACKs go out in binlog order: a
 * transaction that needs no hook still waits behind an earlier one that does.
 */
import type { BinlogPosition, ResumePosition } from '../capture/types.js';
import type { BridgeEvent, TransactionEvents } from '../domain/types.js';
import { comparePositions } from './webhook-feed.js';
import type { HoldParticipant } from './webhook-runner.js';

/** A transactional hook as the hold sees it. */
export interface HeldHook {
  id: string;
  matches(e: BridgeEvent): boolean;
}

/** What the hold needs from the rest of the bridge. */
export interface CommitHoldOptions {
  /** Sends the semi-sync ACK for everything up to `position` (the binlog client's `sendSemiSyncAck`). */
  sendAck(position: BinlogPosition): void;
  /** The enabled transactional hooks now. */
  hooks(): Iterable<HeldHook>;
  /**
   * Pending transactions kept at most. The server stops waiting after `rpl_semi_sync_master_timeout` and then stops
   * asking for ACKs, so this bounds memory only when a hook is stuck far longer than that.
   */
  maxPending?: number;
  log?: { warn(obj: object, msg?: string): void };
}

interface Pending {
  end: ResumePosition;
  waiting: Set<string>;
}

/** Tracks which live transactions wait for which hooks and ACKs them in binlog order. */
export class CommitHold implements HoldParticipant {
  readonly #o: CommitHoldOptions;
  readonly #max: number;
  readonly #queue: Pending[] = [];
  /** The furthest position each hook acknowledged (a runner may get there before the live reader tells us). */
  readonly #acked = new Map<string, ResumePosition>();
  /** ACKs sent, for metrics and tests. */
  acksSent = 0;

  constructor(options: CommitHoldOptions) {
    this.#o = options;
    this.#max = options.maxPending ?? 100_000;
  }

  /** Number of transactions waiting for a hook (or behind one that does). */
  get pending(): number {
    return this.#queue.length;
  }

  /**
   * Called by the live reader for every transaction, in binlog order, before or after the runners see it.
   * `needsAck`: the server asked for an ACK (semi-sync header flag on the transaction's last event).
   */
  onTransaction(tx: TransactionEvents, needsAck: boolean): void {
    if (!needsAck) return;
    const waiting = new Set<string>();
    for (const hook of this.#o.hooks()) {
      const acked = this.#acked.get(hook.id);
      if (acked && comparePositions(acked, tx.end) >= 0) continue;
      if (tx.events.some((e) => hook.matches(e))) waiting.add(hook.id);
    }
    if (waiting.size === 0 && this.#queue.length === 0) {
      this.#send(tx.end);
      return;
    }
    this.#queue.push({ end: tx.end, waiting });
    if (this.#queue.length > this.#max) {
      // The server gave up on this one long ago (its timeout); drop it rather than grow without bound.
      const dropped = this.#queue.shift()!;
      this.#o.log?.warn({ position: dropped.end.binlog }, 'commit hold: dropped an unacknowledged transaction');
      this.#drain();
    }
  }

  /** A hook is done with every transaction up to `position` (delivered, skipped, or not matching). */
  acknowledged(hookId: string, position: ResumePosition): void {
    const prev = this.#acked.get(hookId);
    if (!prev || comparePositions(position, prev) > 0) this.#acked.set(hookId, position);
    for (const p of this.#queue) {
      if (comparePositions(p.end, position) > 0) break;
      p.waiting.delete(hookId);
    }
    this.#drain();
  }

  /** A hook was disabled or deleted: nothing waits for it any more. */
  forget(hookId: string): void {
    this.#acked.delete(hookId);
    for (const p of this.#queue) p.waiting.delete(hookId);
    this.#drain();
  }

  /** ACKs the longest prefix of the queue that waits for nobody, with one cumulative ACK. */
  #drain(): void {
    let last: Pending | undefined;
    while (this.#queue.length && this.#queue[0].waiting.size === 0) last = this.#queue.shift();
    if (last) this.#send(last.end);
  }

  #send(end: ResumePosition): void {
    this.acksSent++;
    this.#o.sendAck(end.binlog);
  }
}
