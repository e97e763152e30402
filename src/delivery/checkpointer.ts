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
  private running: Promise<void> | null = null;
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

  /** Saves every moved position now. Concurrent calls share one write. */
  async flush(): Promise<void> {
    if (this.running) {
      await this.running;
    }
    const batch: ConsumerPosition[] = [];
    const taken: Array<[Checkpointable, ConfirmedPosition]> = [];
    for (const member of this.members) {
      const position = member.takeCheckpoint();
      if (!position) continue;
      taken.push([member, position]);
      batch.push({ consumer: member.name, ...position });
    }
    if (batch.length === 0) return;
    this.running = this.store
      .save(batch)
      .then(() => {
        this.failedWrites = 0;
        this.onSaved(batch);
      })
      .catch((err: Error) => {
        this.failedWrites++;
        // Put the positions back so the next round retries them (unless a newer one came meanwhile).
        for (const [member, position] of taken) restore(member, position);
        this.onError(err);
      })
      .finally(() => {
        this.running = null;
      });
    await this.running;
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
