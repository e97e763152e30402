/**
 * Persists consumer positions in batches: every `intervalMs` (100 ms by default) one statement saves the positions
 * that moved, instead of one write per transaction. A crash loses at most that interval of checkpoints, which only
 * means re-delivering those transactions (at least once, with their original ids).
 */
import type { ConsumerPosition } from '../state/positions.js';
import type { ConfirmedPosition } from './consumer-runner.js';

/** Anything with a position to persist: a consumer runner, a webhook runner. */
export interface Checkpointable {
  readonly name: string;
  /** The confirmed position if it moved since the last call, else null. */
  takeCheckpoint(): ConfirmedPosition | null;
}

export interface PositionWriter {
  save(positions: readonly ConsumerPosition[]): Promise<void>;
}

export class Checkpointer {
  private readonly members = new Set<Checkpointable>();
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private failedWrites = 0;

  constructor(
    private readonly store: PositionWriter,
    private readonly intervalMs = 100,
    private readonly onError: (err: Error) => void = () => {},
    private readonly onSaved: (positions: readonly ConsumerPosition[]) => void = () => {},
  ) {}

  add(member: Checkpointable): void {
    this.members.add(member);
  }

  /** Stops checkpointing a member (its last position is not flushed: call `flush()` first if it should be). */
  remove(member: Checkpointable): void {
    this.members.delete(member);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  /**
   * Saves every moved position now. Writes are serialized (one after the other, in call order), so an older position
   * can never land after a newer one.
   */
  flush(): Promise<void> {
    this.chain = this.chain.then(() => this.write());
    return this.chain;
  }

  private async write(): Promise<void> {
    const batch: ConsumerPosition[] = [];
    const taken: Array<[Checkpointable, ConfirmedPosition]> = [];
    for (const member of this.members) {
      const position = member.takeCheckpoint();
      if (!position) continue;
      taken.push([member, position]);
      batch.push({ consumer: member.name, ...position });
    }
    if (batch.length === 0) return;
    try {
      await this.store.save(batch);
      this.failedWrites = 0;
      this.onSaved(batch);
    } catch (err) {
      this.failedWrites++;
      // Mark the members dirty again so that the next round writes their (by then possibly newer) positions.
      for (const [member, position] of taken) restore(member, position);
      this.onError(err as Error);
    }
  }

  /** Stops the timer and writes the final positions. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  /** Consecutive failed writes (for `/readyz`). */
  get failures(): number {
    return this.failedWrites;
  }
}

/** A member that can take a position back after a failed write. */
interface Restorable {
  restoreCheckpoint?(position: ConfirmedPosition): void;
}

function restore(member: Checkpointable, position: ConfirmedPosition): void {
  (member as Checkpointable & Restorable).restoreCheckpoint?.(position);
}
