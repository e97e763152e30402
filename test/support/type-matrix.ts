/**
 * The type-matrix workload shared by the decoder tests: tables with every column type and charset variant, rows with
 * edge values, then updates and deletes. Snapshots of `SELECT` after each stage are the expected values.
 */
import type { Connection } from 'mysql2/promise';

/** Fractional precisions 0..6 for TIME, DATETIME and TIMESTAMP columns. */
const FSP = [0, 1, 2, 3, 4, 5, 6];

export const MATRIX_SCHEMA = 'matrix';

/** DDL of the matrix tables. */
export const MATRIX_DDL = [
  `CREATE TABLE types (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
    yr YEAR,
    mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED,
    bi BIGINT, biu BIGINT UNSIGNED,
    f FLOAT, fu FLOAT UNSIGNED, d DOUBLE,
    dec_small DECIMAL(10,2), dec_wide DECIMAL(65,30), dec_int DECIMAL(18,0), dec_frac DECIMAL(9,9),
    dec_u DECIMAL(12,4) UNSIGNED,
    dt DATE,
    ${FSP.map((n) => `tm${n} TIME(${n})`).join(', ')},
    ${FSP.map((n) => `dtm${n} DATETIME(${n})`).join(', ')},
    ${FSP.map((n) => `ts${n} TIMESTAMP(${n}) NULL DEFAULT NULL`).join(', ')},
    c CHAR(10), c_wide CHAR(100), vc VARCHAR(50), vc_long VARCHAR(300),
    ttx TINYTEXT, tx TEXT, mtx MEDIUMTEXT, ltx LONGTEXT,
    bn BINARY(4), vb VARBINARY(20),
    tbl TINYBLOB, bl BLOB, mbl MEDIUMBLOB, lbl LONGBLOB,
    e ENUM('a','b','ç€','😀'), s SET('x','y','z','w'),
    b1 BIT(1), b13 BIT(13), b64 BIT(64),
    j JSON,
    g GEOMETRY, pt POINT
  ) DEFAULT CHARSET=utf8mb4`,
  `CREATE TABLE latin (
    id INT NOT NULL PRIMARY KEY,
    c CHAR(20), vc VARCHAR(100), tx TEXT,
    e ENUM('é','€uro','plain'), s SET('à','ü','ñ')
  ) DEFAULT CHARSET=latin1`,
  `CREATE TABLE mb3 (
    id INT NOT NULL PRIMARY KEY,
    c CHAR(20), vc VARCHAR(100), tx TEXT, e ENUM('ä','b')
  ) DEFAULT CHARSET=utf8mb3`,
  `CREATE TABLE mixed (
    id INT NOT NULL PRIMARY KEY,
    a_latin VARCHAR(20) CHARACTER SET latin1,
    b_mb3 VARCHAR(20) CHARACTER SET utf8mb3,
    c_mb4 VARCHAR(20) CHARACTER SET utf8mb4,
    d_bin VARCHAR(20) CHARACTER SET binary,
    e_ascii VARCHAR(20) CHARACTER SET ascii,
    f_text_latin TEXT CHARACTER SET latin1,
    g_enum_latin ENUM('x','€') CHARACTER SET latin1,
    h_bin_char CHAR(5) CHARACTER SET binary
  ) DEFAULT CHARSET=utf8mb4`,
];

const bigText = '長い文章😀'.repeat(3000); // > 64 KiB in utf8mb4: MEDIUMTEXT length prefix of 3 bytes

/**
 * Tables in the pre-MySQL-5.6 temporal formats (DATETIME as YYYYMMDDhhmmss in 8 bytes, TIME as HHMMSS, TIMESTAMP as
 * 4 bytes), which databases upgraded from MySQL 5.5 still carry: created with mysql56_temporal_format=OFF.
 */
export const MATRIX_OLD_FORMAT_DDL = [
  `CREATE TABLE old_temporal (id INT NOT NULL PRIMARY KEY, d DATETIME, t TIME, ts TIMESTAMP NULL DEFAULT NULL, dt DATE)`,
];

/** Inserts (stage 1), updates (stage 2), deletes (stage 3). */
export const MATRIX_STAGES: string[][] = [
  [
    // all NULL
    `INSERT INTO types (id) VALUES (1)`,
    // maxima
    `INSERT INTO types SET id = 2, ti = 127, tiu = 255, si = 32767, siu = 65535, yr = 2155, mi = 8388607,
      miu = 16777215, i = 2147483647, iu = 4294967295, bi = 9223372036854775807, biu = 18446744073709551615,
      f = 3.14, fu = 1e30, d = 1.7976931348623157e308, dec_small = 99999999.99,
      dec_wide = 99999999999999999999999999999999999.999999999999999999999999999999, dec_int = 999999999999999999,
      dec_frac = 0.999999999, dec_u = 12345678.9012, dt = '9999-12-31',
      ${FSP.map((n) => `tm${n} = '838:59:59'`).join(', ')},
      ${FSP.map((n) => `dtm${n} = '9999-12-31 23:59:59.999999'`).join(', ')},
      ${FSP.map((n) => `ts${n} = '2038-01-19 03:14:07.999999'`).join(', ')},
      c = 'abcdefghij', c_wide = REPEAT('é', 100), vc = 'x', vc_long = REPEAT('ü', 300),
      ttx = REPEAT('a', 255), tx = REPEAT('b', 1000), mtx = ?, ltx = ?,
      bn = X'00FF10AB', vb = X'DEADBEEF00', tbl = X'01', bl = X'0001020304', mbl = REPEAT(X'FF', 70000),
      lbl = X'CAFE', e = '😀', s = 'x,y,z,w', b1 = b'1', b13 = b'1111111111111', b64 = 18446744073709551615,
      j = '{"a": [1, 2.5, "x", null, true], "b": {"c": "😀"}}', g = ST_GeomFromText('LINESTRING(0 0, 1 1, 2 3)'),
      pt = ST_GeomFromText('POINT(1.5 -2)')`,
    // minima and negative values
    `INSERT INTO types SET id = 3, ti = -128, tiu = 0, si = -32768, siu = 0, yr = 1901, mi = -8388608, miu = 0,
      i = -2147483648, iu = 0, bi = -9223372036854775808, biu = 0, f = -0.5, fu = 0, d = -2.2250738585072014e-308,
      dec_small = -99999999.99, dec_wide = -0.000000000000000000000000000001, dec_int = -1, dec_frac = -0.000000001,
      dec_u = 0, dt = '1000-01-01',
      ${FSP.map((n) => `tm${n} = '-838:59:59'`).join(', ')},
      ${FSP.map((n) => `dtm${n} = '1000-01-01 00:00:00'`).join(', ')},
      ${FSP.map((n) => `ts${n} = '1970-01-01 00:00:01'`).join(', ')},
      c = '', c_wide = '', vc = '', vc_long = '', ttx = '', tx = '', mtx = '', ltx = '', bn = '', vb = '',
      tbl = '', bl = '', mbl = '', lbl = '', e = 'a', s = '', b1 = b'0', b13 = b'0', b64 = 0,
      j = '[]', g = ST_GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 0))'), pt = ST_GeomFromText('POINT(0 0)')`,
    // fractional seconds at every precision, negative fractions, 53-bit edges
    `INSERT INTO types SET id = 4, bi = 9007199254740993, biu = 9007199254740991, i = -1, ti = -1, si = -1, mi = -1,
      yr = 0, f = 16777217, fu = 0.1, d = 0.1, dec_small = -0.01, dec_wide = 12345.678901234567890123456789012345,
      dec_int = -999999999999999999, dec_frac = 0.123456789, dt = '2024-02-29',
      ${FSP.map((n) => `tm${n} = '-00:00:00.${'123456'.slice(0, Math.max(n, 1))}'`).join(', ')},
      ${FSP.map((n) => `dtm${n} = '2024-02-29 12:34:56.123456'`).join(', ')},
      ${FSP.map((n) => `ts${n} = '2024-02-29 12:34:56.654321'`).join(', ')},
      c = '😀𝄞', vc = 'Grüße, 世界 🎉', ttx = 'ℕ', tx = 'tab\tnewline\\nquote''', e = 'ç€', s = 'y,w',
      b13 = 4660, b64 = 1, j = '{"n": -1.5e-7, "big": 18446744073709551615, "s": "a\\\\"b"}', pt = ST_GeomFromText('POINT(3 4)')`,
    `INSERT INTO types SET id = 5, bi = -9007199254740993, biu = 18446744073709551614, i = 0,
      ${FSP.map((n) => `tm${n} = '-12:34:56.987654'`).join(', ')},
      ${FSP.map((n) => `dtm${n} = '2000-01-01 00:00:00.000001'`).join(', ')},
      ${FSP.map((n) => `ts${n} = '1999-12-31 23:59:59.5'`).join(', ')}`,
    // zero dates (sql_mode '' allows them)
    `INSERT INTO types SET id = 6, dt = '0000-00-00',
      ${FSP.map((n) => `dtm${n} = '0000-00-00 00:00:00'`).join(', ')},
      ${FSP.map((n) => `ts${n} = '0000-00-00 00:00:00'`).join(', ')}, e = ''`,
    `INSERT INTO types SET id = 7, dt = '2020-00-00', ${FSP.map((n) => `dtm${n} = '2020-01-00 10:00:00'`).join(', ')}`,
    `INSERT INTO latin VALUES
      (1, '€‚ƒ„…†‡ˆ‰Š‹ŒŽ', 'Ÿ‘’“”•–—˜™š›œžé', 'café 10€', '€uro', 'à,ñ'),
      (2, '', '', '', 'é', ''), (3, NULL, NULL, NULL, NULL, NULL),
      (4, 'ÿþýüû', CONCAT('x', CHAR(0x81 USING latin1), CHAR(0x8D USING latin1), 'y'), 'plain', 'plain', 'ü')`,
    `INSERT INTO mb3 VALUES (1, 'ä€', 'ｶﾀｶﾅ 日本', REPEAT('ß', 500), 'ä'), (2, '', '', '', 'b')`,
    `INSERT INTO mixed VALUES (1, '€ latin', 'ä mb3', '😀 mb4', X'00FF', 'ascii', 'Ænd €', '€', X'0102'),
      (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
    `INSERT INTO old_temporal VALUES (1, '2024-02-29 12:34:56', '-838:59:59', '2024-02-29 12:34:56', '2024-02-29'),
      (2, '0000-00-00 00:00:00', '00:00:00', '0000-00-00 00:00:00', '0000-00-00'),
      (3, '1999-12-31 23:59:59', '12:00:01', '1970-01-01 00:00:01', '1000-01-01'), (4, NULL, NULL, NULL, NULL)`,
  ],
  [
    `UPDATE types SET ti = ti - 1 WHERE id = 2`,
    `UPDATE types SET vc = CONCAT(vc, '✓'), biu = 1, dtm6 = '2001-02-03 04:05:06.070809', e = 'b' WHERE id IN (1, 3)`,
    `UPDATE types SET j = JSON_SET(j, '$.added', 1) WHERE id = 4`,
    `UPDATE latin SET vc = CONCAT(vc, '€') WHERE id IN (1, 2)`,
    `UPDATE mixed SET a_latin = 'Œuvre', c_mb4 = '🙂' WHERE id = 1`,
    `UPDATE old_temporal SET d = '2000-01-01 00:00:00', t = '-00:00:01' WHERE id = 1`,
  ],
  [
    `DELETE FROM types WHERE id IN (3, 5)`,
    `DELETE FROM latin WHERE id = 2`,
    `DELETE FROM mixed WHERE id = 2`,
    `DELETE FROM old_temporal WHERE id = 3`,
  ],
];

/** Parameters of statements that take them (by stage and index). */
export const MATRIX_PARAMS: Record<string, unknown[]> = {
  '0:1': [bigText, bigText + '!'],
};

/** A `SELECT` snapshot of every matrix table: table -> id -> row, GEOMETRY columns as hex strings. */
export type Snapshot = Map<string, Map<number, Record<string, unknown>>>;

export const MATRIX_TABLES = ['types', 'latin', 'mb3', 'mixed', 'old_temporal'];

/** Reads every matrix table as the bridge's decoded values should look. */
export async function snapshot(conn: Connection): Promise<Snapshot> {
  const out: Snapshot = new Map();
  for (const t of MATRIX_TABLES) {
    const sql = t === 'types' ? 'SELECT *, HEX(g) AS g, HEX(pt) AS pt FROM types' : `SELECT * FROM ${t}`;
    const [rows] = await conn.query(sql);
    const byId = new Map<number, Record<string, unknown>>();
    for (const r of rows as Record<string, unknown>[]) byId.set(Number(r.id), r);
    out.set(t, byId);
  }
  return out;
}

/** Creates the schema and runs the stages, returning the snapshot after each stage. */
export async function runMatrix(conn: Connection): Promise<Snapshot[]> {
  await conn.query(`SET SESSION sql_mode = '', time_zone = '+00:00'`);
  await conn.query(`CREATE DATABASE ${MATRIX_SCHEMA}`);
  await conn.query(`USE ${MATRIX_SCHEMA}`);
  for (const ddl of MATRIX_DDL) await conn.query(ddl);
  await conn.query('SET GLOBAL mysql56_temporal_format = OFF');
  try {
    for (const ddl of MATRIX_OLD_FORMAT_DDL) await conn.query(ddl);
  } finally {
    await conn.query('SET GLOBAL mysql56_temporal_format = ON');
  }
  const snaps: Snapshot[] = [];
  for (let s = 0; s < MATRIX_STAGES.length; s++) {
    for (let i = 0; i < MATRIX_STAGES[s].length; i++) await conn.query(MATRIX_STAGES[s][i], MATRIX_PARAMS[`${s}:${i}`]);
    snaps.push(await snapshot(conn));
  }
  return snaps;
}
