/**
 * Protocol bytes of the binlog client, checked against the MySQL/MariaDB protocol documentation (no MySQL server
 * runs here): COM_REGISTER_SLAVE, COM_BINLOG_DUMP (the MariaDB documentation's example packet), COM_BINLOG_DUMP_GTID
 * with MySQL's GTID set encoding, the semi-sync ACK, packet framing, CRC32 and GTID bookkeeping.
 */
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { checkEventCrc32 } from '../../src/source/checksum.js';
import { MariaDbGtidState, MysqlGtidSet } from '../../src/source/gtid.js';
import {
  buildBinlogDump,
  buildBinlogDumpGtid,
  buildRegisterSlave,
  buildSemiSyncAck,
  framePacket,
  PacketFramer,
  parseErrPacket,
} from '../../src/source/packets.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('replication commands', () => {
  it('COM_BINLOG_DUMP matches the example packet of the MariaDB protocol documentation', () => {
    // https://mariadb.com/kb/en/com_binlog_dump/: position 0x634, flags 2 (ANNOTATE_ROWS), server id 10101.
    const packet = framePacket(buildBinlogDump({ serverId: 10101, file: 'mysql-bin.000034', position: 0x634, flags: 2 }));
    expect(packet).toEqual(Buffer.concat([hex('1b000000 12 34060000 0200 75270000'), Buffer.from('mysql-bin.000034')]));
  });

  it('COM_REGISTER_SLAVE: server id, length-prefixed host/user/password, port, rank, master id', () => {
    const b = buildRegisterSlave({ serverId: 0x01020304, host: 'bridge', port: 3306 });
    expect(b).toEqual(
      Buffer.concat([
        hex('15 04030201'),
        Buffer.from([6]),
        Buffer.from('bridge'),
        hex('00 00'), // empty user, empty password
        hex('ea0c'), // port 3306
        hex('00000000 00000000'), // replication rank, master id
      ]),
    );
  });

  it('COM_BINLOG_DUMP_GTID: flags|THROUGH_GTID, server id, name, 8-byte pos, then the encoded GTID set', () => {
    const set = MysqlGtidSet.parse('3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:7');
    const encoded = set.encode();
    // Gtid_set::encode: n_sids(8) | sid(16) | n_intervals(8) | [start(8) end_exclusive(8)]...
    expect(encoded).toEqual(
      Buffer.concat([
        hex('0100000000000000'),
        hex('3e11fa4771ca11e19e33c80aa9429562'),
        hex('0200000000000000'),
        hex('0100000000000000 0600000000000000'),
        hex('0700000000000000 0800000000000000'),
      ]),
    );
    const b = buildBinlogDumpGtid({ serverId: 42, gtidSetEncoded: encoded });
    expect(b).toEqual(
      Buffer.concat([
        hex('1e 0400 2a000000 00000000'), // command, flags BINLOG_THROUGH_GTID, server id 42, name length 0
        hex('0400000000000000'), // position 4
        Buffer.from([encoded.length, 0, 0, 0]),
        encoded,
      ]),
    );
  });

  it('semi-sync ACK: 0xEF, 8-byte position, file name', () => {
    expect(framePacket(buildSemiSyncAck('mysql-bin.000002', 0x1234))).toEqual(
      Buffer.concat([hex('19000000 ef 3412000000000000'), Buffer.from('mysql-bin.000002')]),
    );
  });

  it('parses ERR packets with and without SQL state', () => {
    const e = parseErrPacket(Buffer.concat([hex('ff d404 23'), Buffer.from('HY000'), Buffer.from('Could not find first log file')]));
    expect(e.code).toBe(1236);
    expect(e.sqlState).toBe('HY000');
    expect(e.serverMessage).toBe('Could not find first log file');
  });
});

describe('packet framing', () => {
  it('reassembles packets split at every byte boundary, handing out ranges of the chunks without copies', () => {
    const payloads = [Buffer.from('a'), Buffer.alloc(300, 7), Buffer.from('hello world')];
    const stream = Buffer.concat(payloads.map((p, i) => framePacket(p, i)));
    for (const step of [1, 2, 3, 5, 64, stream.length]) {
      const framer = new PacketFramer();
      const got: Array<[string, number]> = [];
      for (let o = 0; o < stream.length; o += step) {
        framer.push(stream.subarray(o, o + step), (b, s, e, seq) => got.push([b.toString('hex', s, e), seq]));
      }
      expect(got).toEqual(payloads.map((p, i) => [p.toString('hex'), i]));
      expect(framer.bufferedBytes).toBe(0);
    }
  });

  it('joins a payload of 16 MiB and more from its continuation packets', () => {
    const big = Buffer.alloc(0xffffff + 10, 0x5a);
    big[0] = 1;
    big[big.length - 1] = 2;
    const framed = framePacket(big);
    expect(framed.length).toBe(big.length + 8);
    const framer = new PacketFramer();
    const got: Buffer[] = [];
    framer.push(framed.subarray(0, 1000), (b, s, e) => got.push(b.subarray(s, e)));
    framer.push(framed.subarray(1000), (b, s, e) => got.push(b.subarray(s, e)));
    expect(got).toHaveLength(1);
    expect(got[0].equals(big)).toBe(true);
  });
});

describe('CRC32 of events', () => {
  it('accepts an intact event and names expected and actual for a flipped byte', () => {
    const body = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz');
    const sum = Buffer.alloc(4);
    sum.writeUInt32LE(crc32(body) >>> 0);
    const event = Buffer.concat([body, sum]);
    expect(checkEventCrc32(event)).toBeNull();
    event[20] ^= 0x10;
    const bad = checkEventCrc32(event);
    expect(bad?.expected).toBe(crc32(body) >>> 0);
    expect(bad?.actual).not.toBe(bad?.expected);
  });
});

describe('GTID state', () => {
  it('MySQL GTID sets parse, merge, add and print like the server', () => {
    const s = MysqlGtidSet.parse('3e11fa47-71ca-11e1-9e33-c80aa9429562:1-3:5,\n 3E11FA47-71CA-11E1-9E33-C80AA9429562:4');
    expect(s.toString()).toBe('3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5');
    s.add('3e11fa47-71ca-11e1-9e33-c80aa9429562:6');
    s.add('00000000-0000-0000-0000-000000000001:9');
    expect(s.toString()).toBe('00000000-0000-0000-0000-000000000001:9,3e11fa47-71ca-11e1-9e33-c80aa9429562:1-6');
    expect(() => MysqlGtidSet.parse('nonsense:1')).toThrow(/server uuid/);
    expect(() => MysqlGtidSet.parse('3e11fa47-71ca-11e1-9e33-c80aa9429562:tag:1')).toThrow(/tagged/);
  });

  it('MariaDB state keeps the last GTID per domain; a GTID list fills only unknown domains', () => {
    const s = MariaDbGtidState.parse('0-1-10');
    s.add('0-1-11');
    s.add('2-5-3');
    s.fillFrom(['0-1-5', '1-1-7', '1-2-9']);
    expect(s.toString()).toBe('0-1-11,1-2-9,2-5-3');
    expect(() => MariaDbGtidState.parse('0-1')).toThrow(/domain-server-seq/);
  });
});
