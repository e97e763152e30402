/**
 * Source time zone handling: OpenMRS DATETIME columns are zoneless wall-clock values in the server's zone
 * (BRIDGE_SOURCE_TIMEZONE); events carry UTC. Offsets come from Intl, so DST transitions are right.
 */

const WALL = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?$/;

/** Converts zoneless source DATETIME strings to ISO-8601 UTC. */
export class SourceClock {
  readonly timeZone: string;
  private readonly utc: boolean;
  private readonly fmt: Intl.DateTimeFormat | null;
  /** Wall-clock minute (`YYYY-MM-DD HH:MM`) -> converted UTC minute (`YYYY-MM-DDTHH:MM`). */
  private readonly minutes = new Map<string, string>();
  /** Whole source value -> converted value: OpenMRS rows repeat the same few DATETIMEs (date_created, obs_datetime). */
  private readonly values = new Map<string, string>();

  /** @param timeZone an IANA zone (`Africa/Nairobi`), `UTC`, or a fixed offset `+03:00`. Throws on an unknown zone. */
  constructor(timeZone: string) {
    this.timeZone = timeZone;
    const fixed = /^([+-])(\d{2}):?(\d{2})$/.exec(timeZone);
    if (fixed) {
      const minutes = (Number(fixed[2]) * 60 + Number(fixed[3])) * (fixed[1] === '-' ? -1 : 1);
      this.utc = minutes === 0;
      this.fmt = null;
      this.fixedOffsetMs = minutes * 60_000;
      return;
    }
    // Throws RangeError for an unknown zone: the config layer turns that into exit 2.
    const fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    const resolved = fmt.resolvedOptions().timeZone;
    this.utc = resolved === 'UTC' || resolved === 'Etc/UTC' || resolved === 'Etc/GMT';
    this.fmt = this.utc ? null : fmt;
  }

  private fixedOffsetMs: number | null = null;

  /** True when `zone` is a zone this class accepts. */
  static isValidZone(zone: string): boolean {
    try {
      new SourceClock(zone);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * `YYYY-MM-DD HH:MM:SS[.ffffff]` in the source zone to `YYYY-MM-DDTHH:MM:SS[.fff]Z`. Null and zero dates give null.
   * A repeated wall time (DST end) is read as its first occurrence; a skipped one (DST start) with the summer offset.
   */
  toUtc(value: string | null | undefined): string | null {
    if (value == null) return null;
    // The values of one row are mostly one or two instants (obs_datetime, date_created): comparing with the last two
    // reads the characters once, where the map would hash the new string first.
    if (value === this.lastIn0) return this.lastOut0;
    if (value === this.lastIn1) return this.lastOut1;
    let out = this.values.get(value);
    if (out === undefined) {
      if (value.startsWith('0000-00-00')) return null;
      out = this.convert(value);
      if (this.values.size >= 100_000) this.values.clear();
      this.values.set(value, out);
    }
    this.lastIn1 = this.lastIn0;
    this.lastOut1 = this.lastOut0;
    this.lastIn0 = value;
    this.lastOut0 = out;
    return out;
  }

  private lastIn0: string | null = null;
  private lastOut0: string | null = null;
  private lastIn1: string | null = null;
  private lastOut1: string | null = null;

  private convert(value: string): string {
    // Offsets are whole minutes, so the converted `YYYY-MM-DDTHH:MM` depends on the wall minute only: cache it.
    const key = value.slice(0, 16);
    let prefix = this.minutes.get(key);
    if (prefix === undefined) {
      const m = WALL.exec(value);
      if (!m) throw new Error(`not a DATETIME value: ${JSON.stringify(value)}`);
      if (this.utc) prefix = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}`;
      else {
        const wallMs = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], 0);
        const offset = this.fixedOffsetMs ?? this.offsetForWall(wallMs);
        prefix = new Date(wallMs - offset).toISOString().slice(0, 16);
      }
      if (this.minutes.size >= 100_000) this.minutes.clear();
      this.minutes.set(key, prefix);
    }
    // Fractions are cut to milliseconds (DATETIME(6) holds micro; OpenMRS writes none).
    return value.length > 19
      ? `${prefix}:${value.slice(17, 19)}${value.slice(19, 23)}Z`
      : `${prefix}:${value.slice(17, 19)}Z`;
  }

  /** The zone's UTC offset (ms) at the instant `utcMs`. */
  private offsetAt(utcMs: number): number {
    const parts = this.fmt!.formatToParts(new Date(utcMs));
    let y = 0,
      mo = 0,
      d = 0,
      h = 0,
      mi = 0,
      s = 0;
    for (const p of parts) {
      switch (p.type) {
        case 'year':
          y = +p.value;
          break;
        case 'month':
          mo = +p.value;
          break;
        case 'day':
          d = +p.value;
          break;
        case 'hour':
          h = +p.value;
          break;
        case 'minute':
          mi = +p.value;
          break;
        case 'second':
          s = +p.value;
          break;
      }
    }
    return Date.UTC(y, mo - 1, d, h, mi, s) - Math.floor(utcMs / 1000) * 1000;
  }

  /** Offset for a wall time: try the offset at the naive instant, then correct once (standard two-step). */
  private offsetForWall(wallMs: number): number {
    const o1 = this.offsetAt(wallMs - this.offsetAt(wallMs));
    const o2 = this.offsetAt(wallMs - o1);
    if (o1 === o2) return o1;
    // Ambiguous or skipped: prefer the larger offset (earlier instant = first occurrence / before the jump).
    return Math.max(o1, o2);
  }
}

/** Unix seconds to `YYYY-MM-DDTHH:MM:SSZ`. */
export function unixToIso(seconds: number): string {
  // Consecutive transactions mostly commit in the same second.
  if (seconds !== lastUnix) {
    lastUnix = seconds;
    lastIso = isoSeconds(seconds * 1000) + 'Z';
  }
  return lastIso;
}

let lastUnix = NaN;
let lastIso = '';

function isoSeconds(ms: number): string {
  // toISOString gives `.000Z`; events use whole seconds.
  return new Date(ms).toISOString().slice(0, 19);
}
