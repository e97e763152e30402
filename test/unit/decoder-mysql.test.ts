/**
 * MySQL-only decoder paths, on bytes built from MySQL's format documentation (libbinlogevents control_events.h,
 * rows_event.h, sql-common/json_binary.cc), since no MySQL server runs here: FORMAT_DESCRIPTION of an 8.0 server,
 * GTID (33), TABLE_MAP with MySQL's optional metadata, WRITE/UPDATE/DELETE_ROWS v2 (30-32) with an extra-data
 * block, binary JSON, HEARTBEAT_V2, and checksum handling.
 */
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BinlogDecoder, EventType } from '../../src/source/decoder/index.js';
import { jsonBinaryToText } from '../../src/source/decoder/json-binary.js';
import type { BinlogEvent } from '../../src/source/types.js';

const u8 = (...b: number[]) => Buffer.from(b);
const u16 = (v: number) => Buffer.from([v & 0xff, (v >> 8) & 0xff]);
const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
};
const u48 = (v: number) => {
  const b = Buffer.alloc(6);
  b.writeUIntLE(v, 0, 6);
  return b;
};
const u64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
};
/** A length-encoded (packed) integer. */
const packed = (v: number) =>
  v < 251 ? u8(v) : v < 65536 ? Buffer.concat([u8(0xfc), u16(v)]) : u8(0xfd, v, v >> 8, v >> 16);
/** A length-encoded string. */
const lstr = (s: string) => Buffer.concat([packed(Buffer.byteLength(s)), Buffer.from(s)]);
const cat = (...parts: Buffer[]) => Buffer.concat(parts);

let logPos = 4;
/** One event: 19-byte header (timestamp, type, server id, size, next position, flags), body, CRC32 when asked. */
function event(type: number, body: Buffer, checksum = true, flags = 0): Buffer {
  const size = 19 + body.length + (checksum ? 4 : 0);
  logPos += size;
  const header = cat(u32(1_700_000_000), u8(type), u32(7), u32(size), u32(logPos), u16(flags));
  const ev = cat(header, body);
  return checksum ? cat(ev, u32(crc32(ev))) : ev;
}

/** FORMAT_DESCRIPTION of a MySQL 8.0.36 server with CRC32 checksums. */
function mysqlFormat(): Buffer {
  const version = Buffer.alloc(50);
  version.write('8.0.36');
  const post = Buffer.alloc(41); // post_header_len[type - 1] for types 1..41
  const set = (type: number, len: number) => (post[type - 1] = len);
  set(EventType.QUERY, 13);
  set(EventType.ROTATE, 8);
  set(EventType.FORMAT_DESCRIPTION, 98);
  set(EventType.TABLE_MAP, 8);
  set(EventType.WRITE_ROWS_V2, 10);
  set(EventType.UPDATE_ROWS_V2, 10);
  set(EventType.DELETE_ROWS_V2, 10);
  set(EventType.GTID, 42);
  set(EventType.ANONYMOUS_GTID, 42);
  // The checksum algorithm byte (1 = CRC32) follows the lengths; the event's own CRC comes after it.
  return event(EventType.FORMAT_DESCRIPTION, cat(u16(4), version, u32(0), u8(19), post, u8(1)));
}

const SID = '3e11fa47-71ca-11e1-9e33-c80aa9429562';

/** 7-byte microsecond timestamp; bit 55 set on the immediate timestamp says an original one follows. */
const ts56 = (micros: number, flag: boolean) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(micros) | (flag ? 1n << 55n : 0n));
  return b.subarray(0, 7);
};

function mysqlGtid(gno: number): Buffer {
  return event(
    EventType.GTID,
    cat(
      u8(1), // flags: may have SBR
      Buffer.from(SID.replace(/-/g, ''), 'hex'),
      u64(BigInt(gno)),
      u8(2), // LOGICAL_TIMESTAMP_TYPECODE
      u64(5n), // last_committed
      u64(6n), // sequence_number
      ts56(1_700_000_000_123_456, true), // immediate commit timestamp, original follows
      ts56(1_699_999_999_000_001, false), // original commit timestamp
      packed(300), // transaction length
      u32((80036 | 0x80000000) >>> 0), // immediate server version, original follows
      u32(80036),
    ),
  );
}

/** A small-object binary JSON value: {"a": 1, "b": "xy"} (json_binary.cc layout, offsets from the count). */
const JSON_OBJECT = u8(
  0x00, // small object
  0x02,
  0x00, // element count 2
  0x17,
  0x00, // byte size 23
  0x12,
  0x00,
  0x01,
  0x00, // key 0 at 18, length 1
  0x13,
  0x00,
  0x01,
  0x00, // key 1 at 19, length 1
  0x05,
  0x01,
  0x00, // value 0: int16 1, inlined
  0x0c,
  0x14,
  0x00, // value 1: string at 20
  0x61,
  0x62, // "a", "b"
  0x02,
  0x78,
  0x79, // "xy"
);

/** DATETIME2(3): 5 bytes big-endian (value + 0x8000000000) then the fraction in 2 bytes (hundreds of µs). */
function datetime2(y: number, mo: number, d: number, h: number, mi: number, s: number, micros: number): Buffer {
  const ymd = ((y * 13 + mo) << 5) | d;
  const hms = (h << 12) | (mi << 6) | s;
  const v = BigInt(ymd) * 131072n + BigInt(hms) + 0x8000000000n;
  const b = Buffer.alloc(7);
  b.writeUIntBE(Number(v), 0, 5);
  b.writeUInt16BE(micros / 100, 5);
  return b;
}

const TABLE_ID = 0x1234;
/** Columns of the test table, as MySQL 8 writes them in TABLE_MAP. */
function mysqlTableMap(): Buffer {
  const types = u8(
    3, // obs_id INT
    5, // value_numeric DOUBLE
    13, // yr YEAR
    8, // big BIGINT UNSIGNED
    254, // uuid CHAR(38) utf8mb4
    15, // note VARCHAR(255) utf8mb4
    245, // j JSON
    18, // created DATETIME2(3)
    254, // status ENUM
  );
  const meta = cat(
    u8(8), // DOUBLE: pack length
    u8(0xfe, 152), // CHAR: real type STRING, 38 * 4 bytes
    u16(1020), // VARCHAR: 255 * 4 bytes
    u8(4), // JSON: length bytes
    u8(3), // DATETIME2 fsp
    u8(0xf7, 1), // ENUM: real type, pack length
  );
  const field = (type: number, value: Buffer) => cat(u8(type), packed(value.length), value);
  const optional = cat(
    // SIGNEDNESS: one bit per numeric column, MSB first; MySQL does not count YEAR: obs_id, value_numeric, big.
    field(1, u8(0b0010_0000)),
    field(2, packed(255)), // DEFAULT_CHARSET utf8mb4_0900_ai_ci, no exceptions
    field(4, cat(...['obs_id', 'value_numeric', 'yr', 'big', 'uuid', 'note', 'j', 'created', 'status'].map(lstr))),
    field(6, cat(packed(2), lstr('active'), lstr('retired'))), // ENUM_STR_VALUE
    field(10, packed(255)), // ENUM_AND_SET_DEFAULT_CHARSET
    field(8, packed(0)), // SIMPLE_PRIMARY_KEY: obs_id
    field(12, u8(0xff, 0x80)), // COLUMN_VISIBILITY: all visible
  );
  return event(
    EventType.TABLE_MAP,
    cat(
      u48(TABLE_ID),
      u16(1),
      u8(7),
      Buffer.from('openmrs\0'),
      u8(3),
      Buffer.from('obs\0'),
      packed(9),
      types,
      packed(meta.length),
      meta,
      u8(0xfe, 0x01), // nullable: all but obs_id
      optional,
    ),
  );
}

interface TestRow {
  id: number;
  num: number | null;
  yr: number;
  big: bigint;
  uuid: string;
  note: string;
  json: Buffer;
  created: Buffer;
  status: number;
}

function rowImage(r: TestRow): Buffer {
  const note = Buffer.from(r.note);
  return cat(
    u8(r.num === null ? 0x02 : 0x00, 0x00), // null bitmap over 9 present columns
    u32(r.id),
    r.num === null
      ? Buffer.alloc(0)
      : (() => {
          const b = Buffer.alloc(8);
          b.writeDoubleLE(r.num);
          return b;
        })(),
    u8(r.yr - 1900),
    u64(r.big),
    u8(r.uuid.length),
    Buffer.from(r.uuid),
    u16(note.length),
    note,
    u32(r.json.length),
    r.json,
    r.created,
    u8(r.status),
  );
}

/** A v2 rows event: table id, flags, extra-data length (counting itself) and extra data, then the images. */
function rowsV2(type: number, images: Buffer[], stmtEnd: boolean, update = false): Buffer {
  const extra = u8(0x00, 0x01, 0x02); // an extra row info block the decoder must skip
  return event(
    type,
    cat(
      u48(TABLE_ID),
      u16(stmtEnd ? 1 : 0),
      u16(2 + extra.length),
      extra,
      packed(9),
      u8(0xff, 0x01),
      update ? u8(0xff, 0x01) : Buffer.alloc(0),
      ...images,
    ),
  );
}

const ROW1: TestRow = {
  id: 1,
  num: 36.6,
  yr: 2024,
  big: 18446744073709551615n,
  uuid: '0f4e3b1c-2d6a-4c1e-9f2b-7a8b9c0d1e2f',
  note: 'Grüße 😀',
  json: JSON_OBJECT,
  created: datetime2(2024, 2, 29, 12, 34, 56, 123000),
  status: 2,
};
const ROW2: TestRow = { ...ROW1, id: 2, num: null, big: 42n, note: '', status: 1, json: Buffer.alloc(0) };

function decodeStream(events: Buffer[]): BinlogEvent[] {
  const decoder = new BinlogDecoder();
  return events.map((e) => decoder.decode(e));
}

describe('decoder on MySQL 8 bytes', () => {
  logPos = 4;
  const stream = [
    mysqlFormat(),
    mysqlGtid(23),
    event(EventType.QUERY, cat(u32(9), u32(0), u8(7), u16(0), u16(0), Buffer.from('openmrs\0'), Buffer.from('BEGIN'))),
    mysqlTableMap(),
    rowsV2(EventType.WRITE_ROWS_V2, [rowImage(ROW1), rowImage(ROW2)], false),
    rowsV2(EventType.UPDATE_ROWS_V2, [rowImage(ROW2), rowImage({ ...ROW2, note: 'updated' })], false, true),
    rowsV2(EventType.DELETE_ROWS_V2, [rowImage(ROW1)], true),
    event(EventType.XID, u64(77n)),
  ];
  const events = decodeStream(stream);

  it('reads the format description: server version, CRC32, post-header lengths', () => {
    const fd = events[0];
    expect(fd).toMatchObject({ kind: 'format', serverVersion: '8.0.36', checksum: true, checksumAlg: 1 });
  });

  it('decodes the MySQL GTID event (33)', () => {
    expect(events[1]).toMatchObject({
      kind: 'gtid',
      flavor: 'mysql',
      gtid: `${SID}:23`,
      standalone: false,
      commitMicros: 1_699_999_999_000_001,
      transactionLength: 300,
    });
  });

  it('decodes BEGIN and XID', () => {
    expect(events[2]).toMatchObject({ kind: 'query', schema: 'openmrs', query: 'BEGIN', threadId: 9 });
    expect(events[7]).toMatchObject({ kind: 'xid', xid: 77n });
  });

  it('reads MySQL optional metadata: signedness without YEAR, charsets, names, ENUM labels, primary key', () => {
    const tm = events[3];
    if (tm.kind !== 'table_map') throw new Error(tm.kind);
    expect(tm.table.schema).toBe('openmrs');
    expect(tm.table.table).toBe('obs');
    expect(tm.table.tableId).toBe(TABLE_ID);
    expect(tm.table.namesFrom).toBe('binlog');
    expect(tm.table.primaryKey).toEqual(['obs_id']);
    const col = (n: string) => tm.table.columns.find((c) => c.name === n)!;
    expect(col('big').unsigned).toBe(true);
    expect(col('obs_id').unsigned).toBe(false);
    expect(col('yr').unsigned).toBe(false);
    expect(col('note').collation).toBe(255);
    expect(col('status').enumValues).toEqual(['active', 'retired']);
    expect(col('obs_id').nullable).toBe(false);
  });

  it('decodes WRITE/UPDATE/DELETE_ROWS v2 with an extra-data block, by column name', () => {
    const [w, u, d] = events.slice(4, 7);
    if (w.kind !== 'rows' || u.kind !== 'rows' || d.kind !== 'rows') throw new Error('not rows');
    const expected1 = {
      obs_id: 1,
      value_numeric: 36.6,
      yr: 2024,
      big: '18446744073709551615',
      uuid: ROW1.uuid,
      note: 'Grüße 😀',
      j: '{"a": 1, "b": "xy"}',
      created: '2024-02-29 12:34:56.123',
      status: 'retired',
    };
    const expected2 = { ...expected1, obs_id: 2, value_numeric: null, big: 42, note: '', j: 'null', status: 'active' };
    expect(w).toMatchObject({ op: 'insert', statementEnd: false });
    expect(w.rows).toEqual([
      { before: null, after: expected1 },
      { before: null, after: expected2 },
    ]);
    expect(u.op).toBe('update');
    expect(u.rows).toEqual([{ before: expected2, after: { ...expected2, note: 'updated' } }]);
    expect(d).toMatchObject({ op: 'delete', statementEnd: true });
    expect(d.rows).toEqual([{ before: expected1, after: null }]);
  });

  it('decodes the same through the generic loop', () => {
    const decoder = new BinlogDecoder({ compile: false });
    const generic = stream.map((e) => decoder.decode(e));
    expect(generic.slice(4, 7)).toEqual(events.slice(4, 7));
  });

  it('refuses a rows event whose values run past its end, rather than return a wrong value', () => {
    const decoder = new BinlogDecoder();
    for (const e of stream.slice(0, 4)) decoder.decode(e);
    const truncated = rowsV2(EventType.WRITE_ROWS_V2, [rowImage(ROW1).subarray(0, 40)], true);
    expect(() => decoder.decode(truncated)).toThrow(/runs past the end/);
  });

  it('decodes HEARTBEAT_V2 (file name and 64-bit position fields)', () => {
    const decoder = new BinlogDecoder({ checksum: true });
    const pos = 5_000_000_000;
    const posBytes = cat(u8(0xfe), u64(BigInt(pos)));
    const hb = event(
      EventType.HEARTBEAT_V2,
      cat(u8(1), packed(13), Buffer.from('binlog.000041'), u8(2), packed(posBytes.length), posBytes, u8(0)),
    );
    expect(decoder.decode(hb)).toMatchObject({ kind: 'heartbeat', file: 'binlog.000041', position: pos });
  });

  it('excludes the checksum before the first FORMAT_DESCRIPTION only when told so (the fake ROTATE)', () => {
    const rotateBody = cat(u64(4n), Buffer.from('binlog.000042'));
    const withCrc = new BinlogDecoder({ checksum: true }).decode(event(EventType.ROTATE, rotateBody, true));
    expect(withCrc).toMatchObject({ kind: 'rotate', file: 'binlog.000042', position: 4 });
    const without = new BinlogDecoder().decode(event(EventType.ROTATE, rotateBody, false));
    expect(without).toMatchObject({ kind: 'rotate', file: 'binlog.000042', position: 4 });
  });
});

describe('MySQL binary JSON to text', () => {
  const text = (b: Buffer) => jsonBinaryToText(b, 0, b.length);

  it('small object with an inlined int16 and a string', () => {
    expect(text(JSON_OBJECT)).toBe('{"a": 1, "b": "xy"}');
  });

  it('small array: literals inlined, int32 not inlined in the small form, UTF-8 string', () => {
    const arr = u8(
      0x02, // small array
      0x05,
      0x00, // 5 elements
      0x1a,
      0x00, // 26 bytes
      0x04,
      0x01,
      0x00, // true
      0x04,
      0x00,
      0x00, // null
      0x05,
      0xfe,
      0xff, // int16 -2
      0x07,
      0x13,
      0x00, // int32 at 19
      0x0c,
      0x17,
      0x00, // string at 23
      0x70,
      0x11,
      0x01,
      0x00, // 70000
      0x02,
      0xc3,
      0xa9, // "é"
    );
    expect(text(arr)).toBe('[true, null, -2, 70000, "é"]');
  });

  it('large object with a uint64 beyond 2^53 (exact)', () => {
    const obj = cat(
      u8(0x01), // large object
      u32(1), // count
      u32(28), // size
      u32(19), // key at 19
      u16(1), // key length
      u8(0x0a), // uint64
      u32(20), // at 20
      Buffer.from('k'),
      u64(18446744073709551615n),
    );
    expect(text(obj)).toBe('{"k": 18446744073709551615}');
  });

  it('scalars: int64, double, escaped string, false', () => {
    const int64 = cat(u8(0x09), u64(BigInt.asUintN(64, -9007199254740993n)));
    expect(text(int64)).toBe('-9007199254740993');
    const dbl = Buffer.alloc(9);
    dbl[0] = 0x0b;
    dbl.writeDoubleLE(1.5e300, 1);
    expect(text(dbl)).toBe('1.5e300');
    const s = 'a"b\n';
    expect(text(cat(u8(0x0c, s.length), Buffer.from(s)))).toBe('"a\\"b\\n"');
    expect(text(u8(0x04, 0x02))).toBe('false');
  });

  it('opaque values: DECIMAL as a number, DATETIME/DATE/TIME as strings, others as base64', () => {
    // DECIMAL(4,2) 12.50: precision, scale, then decimal2bin (first bit flipped): 0x8c 0x32.
    expect(text(u8(0x0f, 246, 4, 4, 2, 0x8c, 0x32))).toBe('12.50');
    const packedDatetime = (ymd: number, hms: number, micros: number) =>
      u64(((BigInt(ymd) * 131072n + BigInt(hms)) << 24n) | BigInt(micros));
    const ymd = ((2024 * 13 + 2) << 5) | 29;
    const hms = (12 << 12) | (34 << 6) | 56;
    expect(text(cat(u8(0x0f, 12, 8), packedDatetime(ymd, hms, 123456)))).toBe('"2024-02-29 12:34:56.123456"');
    expect(text(cat(u8(0x0f, 10, 8), packedDatetime(ymd, 0, 0)))).toBe('"2024-02-29"');
    const timePacked = u64(BigInt((1 << 12) | (2 << 6) | 3) << 24n);
    expect(text(cat(u8(0x0f, 11, 8), timePacked))).toBe('"01:02:03.000000"');
    expect(text(u8(0x0f, 252, 2, 0xca, 0xfe))).toBe('"base64:type252:yv4="');
  });

  it('an empty value is JSON null; a value running past its column is an error', () => {
    expect(text(Buffer.alloc(0))).toBe('null');
    expect(() => text(JSON_OBJECT.subarray(0, 10))).toThrow(/binary JSON/);
  });
});

describe('column names from a resolver', () => {
  /** A TABLE_MAP without the optional metadata block, as MySQL 5.7 or binlog_row_metadata=MINIMAL writes it. */
  const bareTableMap = () =>
    event(
      EventType.TABLE_MAP,
      cat(u48(99), u16(1), u8(1), Buffer.from('s\0'), u8(1), Buffer.from('t\0'), packed(2), u8(3, 3), packed(0), u8(0)),
    );
  const insert = () =>
    event(EventType.WRITE_ROWS_V2, cat(u48(99), u16(1), u16(2), packed(2), u8(0x03), u8(0x00), u32(7), u32(8)));
  const query = (sql: string) =>
    event(EventType.QUERY, cat(u32(1), u32(0), u8(1), u16(0), u16(0), Buffer.from('s\0'), Buffer.from(sql)));

  it('asks again after a statement that may be DDL (a renamed column keeps the table definition)', () => {
    let calls = 0;
    const decoder = new BinlogDecoder({
      resolveColumnNames: () => (++calls === 1 ? [{ name: 'a' }, { name: 'b' }] : [{ name: 'a' }, { name: 'renamed' }]),
    });
    const out = [
      mysqlFormat(),
      query('BEGIN'),
      bareTableMap(),
      insert(),
      query('COMMIT'),
      query('BEGIN'),
      bareTableMap(),
      insert(),
      query('ALTER TABLE t RENAME COLUMN b TO renamed'),
      bareTableMap(),
      insert(),
    ].map((e) => decoder.decode(e));
    const rows = out.filter((e) => e.kind === 'rows').map((e) => (e.kind === 'rows' ? e.rows[0].after : null));
    expect(rows).toEqual([
      { a: 7, b: 8 },
      { a: 7, b: 8 },
      { a: 7, renamed: 8 },
    ]);
    expect(calls).toBe(2);
    const tm = out.find((e) => e.kind === 'table_map');
    expect(tm?.kind === 'table_map' && tm.table.namesFrom).toBe('information_schema');
  });

  it('keeps a column named __proto__ as an own property, in both decoding paths', () => {
    for (const compile of [true, false]) {
      const decoder = new BinlogDecoder({
        compile,
        resolveColumnNames: () => [{ name: '__proto__' }, { name: 'a"b\\c' }],
      });
      const [, , rows] = [mysqlFormat(), bareTableMap(), insert()].map((e) => decoder.decode(e));
      if (rows.kind !== 'rows') throw new Error(rows.kind);
      const image = rows.rows[0].after!;
      expect(Object.keys(image)).toEqual(['__proto__', 'a"b\\c']);
      expect(Object.getPrototypeOf(image)).toBe(Object.prototype);
      expect(image['a"b\\c']).toBe(8);
      expect(Object.getOwnPropertyDescriptor(image, '__proto__')?.value).toBe(7);
    }
  });
});

describe('MySQL events the decoder cannot read stop the stream with the fix, never drop rows silently', () => {
  for (const [type, fix] of [
    [EventType.PARTIAL_UPDATE_ROWS, /binlog_row_value_options = ''/],
    [EventType.TRANSACTION_PAYLOAD, /binlog_transaction_compression = OFF/],
    [EventType.GTID_TAGGED, /GTID tag/],
  ] as const) {
    it(`event type ${type}`, () => {
      const decoder = new BinlogDecoder();
      decoder.decode(mysqlFormat());
      expect(() => decoder.decode(event(type, u8(1, 2, 3, 4)))).toThrow(fix);
    });
  }
});
