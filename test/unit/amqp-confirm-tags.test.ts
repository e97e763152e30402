/**
 * The AMQP publisher's confirm bookkeeping by delivery tag (src/channels/amqp/confirm-tags.ts): multiple and single
 * acks in any order, nacks, tags it never published or already settled, callbacks that publish again while an ack is
 * being settled, compaction over many messages, and a closed channel failing what is left.
 */
import { describe, expect, it } from 'vitest';
import { ConfirmTags } from '../../src/channels/amqp/confirm-tags.js';

/** Publishes `n` messages and records how each one was settled ('ack', the error's message, or still undefined). */
function publish(tags: ConfirmTags, outcomes: Array<string | undefined>, n: number): void {
  for (let k = 0; k < n; k++) {
    const i = outcomes.length;
    outcomes.push(undefined);
    tags.push((err) => {
      expect(outcomes[i]).toBeUndefined(); // settled once only
      outcomes[i] = err ? err.message : 'ack';
    });
  }
}

describe('ConfirmTags', () => {
  it('settles multiple acks up to a tag, single acks out of order, and nacks', () => {
    const tags = new ConfirmTags();
    const out: Array<string | undefined> = [];
    publish(tags, out, 10);
    tags.settle(3, true, null); // tags 1-3
    tags.settle(6, false, null); // tag 6 alone, ahead of 4 and 5
    tags.settle(5, false, new Error('message nacked'));
    expect(out).toEqual(['ack', 'ack', 'ack', undefined, 'message nacked', 'ack', undefined, undefined, undefined, undefined]);
    expect(tags.pending).toBe(7);
    tags.settle(4, false, null); // the oldest: the front moves past 4, 5 and 6
    expect(tags.pending).toBe(4);
    tags.settle(10, true, null);
    expect(out.every((o, i) => o === (i === 4 ? 'message nacked' : 'ack'))).toBe(true);
    expect(tags.pending).toBe(0);
  });

  it('ignores tags never published or already settled', () => {
    const tags = new ConfirmTags();
    const out: Array<string | undefined> = [];
    publish(tags, out, 3);
    tags.settle(2, true, null);
    tags.settle(1, false, new Error('late nack')); // already acked
    tags.settle(2, true, null);
    tags.settle(99, true, null); // never published
    expect(out).toEqual(['ack', 'ack', undefined]);
    tags.settle(3, false, null);
    expect(out).toEqual(['ack', 'ack', 'ack']);
    // Tags go on from where they were after the array emptied.
    publish(tags, out, 2);
    tags.settle(5, false, null);
    tags.settle(4, false, null);
    expect(out).toEqual(['ack', 'ack', 'ack', 'ack', 'ack']);
  });

  it('takes new messages from callbacks while an ack is settled, and compacts over many', () => {
    const tags = new ConfirmTags();
    let published = 0;
    let acked = 0;
    const send = () => {
      published++;
      tags.push((err) => {
        expect(err).toBeNull();
        acked++;
        if (published < 50_000) send(); // a window refilled from the confirms, as the publisher does
      });
    };
    for (let i = 0; i < 1000; i++) send();
    // The broker acks five at a time, now and then one tag alone ahead of the rest.
    let tag = 0;
    while (acked < 50_000) {
      tag += 5;
      if (tag % 35 === 0) tags.settle(tag + 3, false, null);
      tags.settle(tag, true, null);
    }
    expect(published).toBe(50_000);
    expect(tags.pending).toBe(0);
  });

  it('fails what is left when the channel closes, and nothing after', () => {
    const tags = new ConfirmTags();
    const out: Array<string | undefined> = [];
    publish(tags, out, 4);
    tags.settle(1, true, null);
    tags.settle(3, false, null);
    tags.failAll(new Error('channel closed'));
    expect(out).toEqual(['ack', 'channel closed', 'ack', 'channel closed']);
    tags.settle(4, true, null);
    expect(tags.pending).toBe(0);
  });
});
