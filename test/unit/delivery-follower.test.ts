/**
 * The seam between catch-up readers and the live feed, and the consumer runner's positions, on an in-memory binlog
 * (the integration tests run the same code against MariaDB and RabbitMQ).
 */
import { describe, expect, it } from 'vitest';
import type { ResumePosition } from '../../src/capture/types.js';
import type { BridgeEvent, TransactionEvents } from '../../src/domain/types.js';
import { ConsumerRunner } from '../../src/delivery/consumer-runner.js';
import { Followers, InvalidCursorError } from '../../src/delivery/follower.js';
import { LiveHub } from '../../src/delivery/live-hub.js';
import { binlogDistance, compareBinlog } from '../../src/delivery/position.js';
import { ServerIdPool } from '../../src/delivery/server-ids.js';
import type { ChannelPublisher, TransactionSource } from '../../src/delivery/types.js';

/** An append-only in-memory binlog; transaction i ends at position (i + 1) * 100 of one file. */
class MemoryBinlog implements TransactionSource {
  readonly txs: TransactionEvents[] = [];
  private waiters: Array<() => void> = [];
  openReaders = 0;
  serverIds = new Set<number>();

  append(eventCount: number): void {
    const i = this.txs.length;
    const txid = `0-1-${i + 1}`;
    const events = Array.from({ length: eventCount }, (_, k) => makeEvent(txid, k + 1, eventCount, i));
    this.txs.push({
      txid,
      commitTime: 1000 + i,
      end: { binlog: { file: 'mysql-bin.000001', pos: (i + 1) * 100 } },
      events,
    });
    for (const wake of this.waiters.splice(0)) wake();
  }

  open(from: ResumePosition, options: { serverId: number; signal: AbortSignal }): AsyncIterable<TransactionEvents> {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the generator below needs the binlog
    const log = this;
    if (log.serverIds.has(options.serverId)) throw new Error(`server id ${options.serverId} used twice`);
    return {
      async *[Symbol.asyncIterator]() {
        log.openReaders++;
        log.serverIds.add(options.serverId);
        try {
          let index = log.txs.findIndex((tx) => compareBinlog(tx.end.binlog, from.binlog) > 0);
          if (index < 0) index = log.txs.length;
          while (!options.signal.aborted) {
            if (index < log.txs.length) {
              yield log.txs[index++];
              continue;
            }
            await new Promise<void>((resolve) => {
              log.waiters.push(resolve);
              options.signal.addEventListener('abort', () => resolve(), { once: true });
            });
          }
        } finally {
          log.openReaders--;
          log.serverIds.delete(options.serverId);
        }
      },
    };
  }
}

function makeEvent(txid: string, txseq: number, txsize: number, i: number): BridgeEvent {
  return {
    specversion: '1.0',
    id: `site:${txid}:${txseq}`,
    source: 'openmrs://site',
    type: 'ObsCreated',
    time: new Date(0).toISOString(),
    datacontenttype: 'application/json',
    openmrsclass: 'org.openmrs.Obs',
    openmrsaction: 'CREATED',
    txid,
    txseq,
    txsize,
    cursor: `${i}.${txseq}`,
    data: {},
  };
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

function setup(maxBufferedEvents = 50) {
  const log = new MemoryBinlog();
  const hub = new LiveHub();
  const followers = new Followers({
    hub,
    source: log,
    serverIds: new ServerIdPool(1000),
    maxBufferedEvents,
    decodeCursor(cursor) {
      const match = /^(\d+)\.(\d+)$/.exec(cursor);
      if (!match) throw new InvalidCursorError(`bad cursor ${cursor}`);
      const i = Number(match[1]);
      return { from: { binlog: { file: 'mysql-bin.000001', pos: i * 100 } }, txseq: Number(match[2]) };
    },
  });
  const live = new AbortController();
  const startLive = (at: number) => {
    hub.start({ file: 'mysql-bin.000001', pos: at });
    void (async () => {
      for await (const tx of log.open(
        { binlog: { file: 'mysql-bin.000001', pos: at } },
        { serverId: 1000, signal: live.signal },
      )) {
        hub.dispatch(tx);
      }
    })();
  };
  return { log, hub, followers, live, startLive };
}

describe('followers', () => {
  it('orders positions by file number, then offset, and measures distances', () => {
    expect(compareBinlog({ file: 'b.000009', pos: 900 }, { file: 'b.000010', pos: 4 })).toBeLessThan(0);
    expect(compareBinlog({ file: 'b.999999', pos: 4 }, { file: 'b.1000000', pos: 4 })).toBeLessThan(0);
    expect(compareBinlog({ file: 'b.000002', pos: 10 }, { file: 'b.000002', pos: 10 })).toBe(0);
    const files = [
      { name: 'b.000001', size: 1000 },
      { name: 'b.000002', size: 500 },
      { name: 'b.000003', size: 300 },
    ];
    expect(binlogDistance(files, { file: 'b.000001', pos: 400 }, { file: 'b.000003', pos: 100 })).toBe(600 + 500 + 100);
    expect(binlogDistance(files, { file: 'b.000003', pos: 100 }, { file: 'b.000001', pos: 4 })).toBe(0);
  });

  it('hands over from the binlog to the live feed with no gap and no duplicate, also after overflows', async () => {
    const { log, followers, live, startLive } = setup(20);
    for (let i = 0; i < 300; i++) log.append(1 + (i % 4));
    startLive(300 * 100);
    const stop = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      let n = 0;
      for await (const tx of followers.read({ binlog: { file: 'mysql-bin.000001', pos: 0 } }, stop.signal)) {
        seen.push(tx.txid);
        // A consumer that is sometimes slow: its live buffer overflows and it catches up again.
        if (++n % 97 === 0) await tick(15);
        if (seen.length === 1000) break;
      }
    })();
    for (let i = 300; i < 1000; i++) {
      log.append(1 + (i % 3));
      if (i % 50 === 0) await tick(1);
    }
    await reading;
    stop.abort();
    live.abort();
    expect(seen).toEqual(log.txs.map((tx) => tx.txid));
    await tick(5);
    expect(log.openReaders).toBe(0);
  });

  it('follows from a cursor, keeping only the events after it', async () => {
    const { log, followers, live, startLive } = setup();
    for (let i = 0; i < 10; i++) log.append(3);
    startLive(1000);
    const stop = new AbortController();
    const events: string[] = [];
    for await (const tx of followers.follow({ after: log.txs[4].events[1].cursor, signal: stop.signal })) {
      events.push(...tx.events.map((e) => e.id));
      if (tx.txid === '0-1-7') break;
    }
    expect(events).toEqual([
      'site:0-1-5:3',
      'site:0-1-6:1',
      'site:0-1-6:2',
      'site:0-1-6:3',
      ...log.txs[6].events.map((e) => e.id),
    ]);
    await expect(
      (async () => {
        for await (const _ of followers.follow({ after: 'nonsense', signal: stop.signal })) break;
      })(),
    ).rejects.toBeInstanceOf(InvalidCursorError);
    stop.abort();
    live.abort();
  });

  it('starts live without a cursor', async () => {
    const { log, followers, live, startLive } = setup();
    for (let i = 0; i < 5; i++) log.append(1);
    startLive(500);
    const stop = new AbortController();
    const got: string[] = [];
    const reading = (async () => {
      for await (const tx of followers.follow({ signal: stop.signal })) {
        got.push(tx.txid);
        if (got.length === 2) break;
      }
    })();
    await tick(5);
    log.append(1);
    log.append(1);
    await reading;
    expect(got).toEqual(['0-1-6', '0-1-7']);
    live.abort();
  });
});

/** A publisher that confirms after a random delay and fails while `down`. */
class FlakyPublisher implements ChannelPublisher {
  readonly name = 'flaky';
  down = false;
  refused = 0;
  readonly delivered: string[] = [];
  ready = true;
  async start(): Promise<void> {}
  async close(): Promise<void> {}
  /** Like a broker: refuses at once while down, else takes the messages in order and confirms a little later. */
  publish(events: readonly BridgeEvent[]): Promise<void> {
    if (this.down) {
      this.refused++;
      return Promise.reject(new Error('broker down'));
    }
    for (const e of events) this.delivered.push(e.id);
    return tick(Math.random() * 3).then(() => undefined);
  }
}

describe('consumer runner', () => {
  it('advances only over confirmed transactions and re-sends from there after failures', async () => {
    const { log, followers, live, startLive } = setup(30);
    startLive(0);
    const publisher = new FlakyPublisher();
    const runner = new ConsumerRunner({
      name: 'flaky',
      publisher,
      feed: followers,
      start: { position: { binlog: { file: 'mysql-bin.000001', pos: 0 } }, txid: null, commitTime: null },
      maxInflightEvents: 40,
      retry: { minMs: 5, maxMs: 20 },
    });
    runner.start();
    for (let i = 0; i < 600; i++) {
      log.append(i % 5 === 0 ? 0 : 2);
      if (i % 100 === 50) publisher.down = true;
      if (i % 100 === 70) publisher.down = false;
      if (i % 20 === 0) await tick(2);
    }
    const deadline = Date.now() + 10_000;
    while (runner.confirmed.position.binlog.pos < 600 * 100 && Date.now() < deadline) await tick(10);
    await runner.stop();
    live.abort();
    expect(runner.confirmed.txid).toBe('0-1-600');
    const all = log.txs.flatMap((tx) => tx.events.map((e) => e.id));
    // At least once: every event delivered, and the first delivery of each is in order.
    expect([...new Set(publisher.delivered)]).toEqual(all);
    expect(publisher.refused).toBeGreaterThan(0);
    expect(runner.takeCheckpoint()?.txid).toBe('0-1-600');
    expect(runner.takeCheckpoint()).toBeNull();
  });
});

describe('checkpointer', () => {
  it('saves moved positions in one batch, in order, and retries after a failed write', async () => {
    const { Checkpointer } = await import('../../src/delivery/checkpointer.js');
    const saved: Array<Array<{ consumer: string; txid: string | null }>> = [];
    let fail = false;
    const store = {
      async save(batch: readonly { consumer: string; txid: string | null }[]) {
        await tick(Math.random() * 5);
        if (fail) throw new Error('state database down');
        saved.push(batch.map((p) => ({ consumer: p.consumer, txid: p.txid })));
      },
    };
    const member = (name: string) => {
      let dirty: string | null = null;
      return {
        name,
        set(txid: string) {
          dirty = txid;
        },
        takeCheckpoint() {
          if (!dirty) return null;
          const txid = dirty;
          dirty = null;
          return {
            position: { binlog: { file: 'mysql-bin.000001', pos: Number(txid.split('-')[2]) } },
            txid,
            commitTime: 1,
          };
        },
        restoreCheckpoint(p: { txid: string | null }) {
          dirty ??= p.txid;
        },
      };
    };
    const errors: Error[] = [];
    const checkpointer = new Checkpointer(store, 1000, (err) => errors.push(err));
    const amqp = member('amqp');
    const mqtt = member('mqtt');
    checkpointer.add(amqp);
    checkpointer.add(mqtt);
    await checkpointer.flush();
    expect(saved).toEqual([]);
    amqp.set('0-1-5');
    mqtt.set('0-1-3');
    await checkpointer.flush();
    expect(saved).toEqual([
      [
        { consumer: 'amqp', txid: '0-1-5' },
        { consumer: 'mqtt', txid: '0-1-3' },
      ],
    ]);
    // Concurrent flushes are serialized: the first takes the newest position, the second finds nothing moved.
    amqp.set('0-1-6');
    const a = checkpointer.flush();
    amqp.set('0-1-7');
    const b = checkpointer.flush();
    await Promise.all([a, b]);
    expect(saved.slice(1)).toEqual([[{ consumer: 'amqp', txid: '0-1-7' }]]);
    // A failed write is retried by the next round.
    fail = true;
    mqtt.set('0-1-9');
    await checkpointer.flush();
    expect(errors).toHaveLength(1);
    expect(checkpointer.failures).toBe(1);
    fail = false;
    await checkpointer.stop();
    expect(saved.at(-1)).toEqual([{ consumer: 'mqtt', txid: '0-1-9' }]);
    expect(checkpointer.failures).toBe(0);
  });
});
