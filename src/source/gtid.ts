/**
 * GTID bookkeeping for both flavors:
 * - MariaDB: a GTID is `domain-server-seq`; a replica's state is the last GTID per replication domain
 *   (`@@gtid_binlog_pos` form, `0-1-42,1-2-7`), which `@slave_connect_state` takes to resume.
 * - MySQL: a GTID is `uuid:n`; the state is the executed GTID set (`uuid:1-42:50,uuid2:1-7`), sent encoded in
 *   COM_BINLOG_DUMP_GTID.
 */

/** The last GTID per MariaDB replication domain. */
export class MariaDbGtidState {
  private readonly domains = new Map<number, { server: number; seq: bigint }>();
  /** toString() result, kept until the next change (it is asked for twice per transaction). */
  private text: string | null = null;

  /** Parses `0-1-42,1-2-7` (empty string: empty state). Throws on malformed input. */
  static parse(text: string): MariaDbGtidState {
    const state = new MariaDbGtidState();
    for (const part of text.split(',')) {
      const t = part.trim();
      if (t === '') continue;
      state.add(t);
    }
    return state;
  }

  /** Records a transaction's GTID (`domain-server-seq`): it becomes its domain's position. */
  add(gtid: string): void {
    const m = /^(\d+)-(\d+)-(\d+)$/.exec(gtid);
    if (!m) throw new Error(`not a MariaDB GTID (domain-server-seq): ${JSON.stringify(gtid)}`);
    const domain = Number(m[1]);
    // The common case, one domain: the state is this GTID itself.
    this.text = this.domains.size === 0 || (this.domains.size === 1 && this.domains.has(domain)) ? gtid : null;
    this.domains.set(domain, { server: Number(m[2]), seq: BigInt(m[3]) });
  }

  /** Takes a domain from `other` only where this state does not know the domain yet. */
  fillFrom(gtids: Iterable<string>): void {
    const best = new Map<number, { server: number; seq: bigint }>();
    for (const g of gtids) {
      const m = /^(\d+)-(\d+)-(\d+)$/.exec(g);
      if (!m) continue;
      const d = Number(m[1]);
      const seq = BigInt(m[3]);
      const cur = best.get(d);
      if (!cur || seq > cur.seq) best.set(d, { server: Number(m[2]), seq });
    }
    for (const [d, v] of best) {
      if (!this.domains.has(d)) {
        this.domains.set(d, v);
        this.text = null;
      }
    }
  }

  get size(): number {
    return this.domains.size;
  }

  clone(): MariaDbGtidState {
    const c = new MariaDbGtidState();
    for (const [d, v] of this.domains) c.domains.set(d, { ...v });
    return c;
  }

  /** `domain-server-seq` per domain, ordered by domain, comma separated. */
  toString(): string {
    this.text ??= [...this.domains.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([d, v]) => `${d}-${v.server}-${v.seq}`)
      .join(',');
    return this.text;
  }
}

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** A MySQL GTID set: per source uuid, sorted disjoint intervals [start, end) of transaction numbers. */
export class MysqlGtidSet {
  /** uuid (lower case, dashed) -> intervals as [start, endExclusive], sorted and merged. */
  private readonly sets = new Map<string, Array<[bigint, bigint]>>();

  /** Parses `uuid:1-5:7,uuid2:1-3` (whitespace and newlines allowed, as @@gtid_executed prints it). */
  static parse(text: string): MysqlGtidSet {
    const set = new MysqlGtidSet();
    for (const raw of text.split(',')) {
      const part = raw.trim();
      if (part === '') continue;
      const pieces = part.split(':');
      const uuid = normalizeUuid(pieces[0]);
      if (pieces.length < 2) throw new Error(`GTID set entry without intervals: ${JSON.stringify(part)}`);
      for (const iv of pieces.slice(1)) {
        const m = /^(\d+)(?:-(\d+))?$/.exec(iv.trim());
        if (!m) {
          throw new Error(`unsupported GTID interval ${JSON.stringify(iv)} in ${JSON.stringify(part)} (tagged GTIDs are not supported)`);
        }
        const start = BigInt(m[1]);
        const end = BigInt(m[2] ?? m[1]);
        if (start < 1n || end < start) throw new Error(`bad GTID interval ${JSON.stringify(iv)}`);
        set.addInterval(uuid, start, end + 1n);
      }
    }
    return set;
  }

  /** Adds one transaction `uuid:n`. */
  add(gtid: string): void {
    const i = gtid.lastIndexOf(':');
    if (i < 0) throw new Error(`not a MySQL GTID (uuid:n): ${JSON.stringify(gtid)}`);
    const n = BigInt(gtid.slice(i + 1));
    this.addInterval(normalizeUuid(gtid.slice(0, i)), n, n + 1n);
  }

  private addInterval(uuid: string, start: bigint, end: bigint): void {
    const list = this.sets.get(uuid) ?? [];
    list.push([start, end]);
    list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const merged: Array<[bigint, bigint]> = [];
    for (const iv of list) {
      const last = merged[merged.length - 1];
      if (last && iv[0] <= last[1]) {
        if (iv[1] > last[1]) last[1] = iv[1];
      } else merged.push([iv[0], iv[1]]);
    }
    this.sets.set(uuid, merged);
  }

  clone(): MysqlGtidSet {
    const c = new MysqlGtidSet();
    for (const [u, l] of this.sets) c.sets.set(u, l.map(([a, b]) => [a, b] as [bigint, bigint]));
    return c;
  }

  /** `uuid:1-5:7,...`, uuids sorted, as MySQL prints sets. */
  toString(): string {
    return [...this.sets.keys()]
      .sort()
      .map(
        (u) =>
          u +
          this.sets
            .get(u)!
            .map(([s, e]) => (e - s === 1n ? `:${s}` : `:${s}-${e - 1n}`))
            .join(''),
      )
      .join(',');
  }

  /**
   * The binary form of COM_BINLOG_DUMP_GTID (Gtid_set::encode): n_sids (8), then per sid its 16 uuid bytes,
   * n_intervals (8) and each interval's start (8) and exclusive end (8), all little-endian, sids in uuid order.
   */
  encode(): Buffer {
    const uuids = [...this.sets.keys()].sort();
    let size = 8;
    for (const u of uuids) size += 16 + 8 + 16 * this.sets.get(u)!.length;
    const b = Buffer.alloc(size);
    let o = 0;
    b.writeBigUInt64LE(BigInt(uuids.length), o);
    o += 8;
    for (const u of uuids) {
      Buffer.from(u.replace(/-/g, ''), 'hex').copy(b, o);
      o += 16;
      const ivs = this.sets.get(u)!;
      b.writeBigUInt64LE(BigInt(ivs.length), o);
      o += 8;
      for (const [s, e] of ivs) {
        b.writeBigInt64LE(s, o);
        b.writeBigInt64LE(e, o + 8);
        o += 16;
      }
    }
    return b;
  }
}

function normalizeUuid(s: string): string {
  const t = s.trim().toLowerCase();
  if (!UUID_RE.test(t)) throw new Error(`not a server uuid: ${JSON.stringify(s)}`);
  const h = t.replace(/-/g, '');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The GTID state of either flavor behind one small interface. */
export type GtidState = MariaDbGtidState | MysqlGtidSet;

/** Parses a state string of the given flavor. */
export function parseGtidState(flavor: 'mariadb' | 'mysql', text: string): GtidState {
  return flavor === 'mariadb' ? MariaDbGtidState.parse(text) : MysqlGtidSet.parse(text);
}
