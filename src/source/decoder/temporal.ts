/**
 * Temporal column values, formatted as `SELECT` with `dateStrings` shows them. Storage formats from MySQL's
 * my_time.cc (the "mysql56" formats DATETIME2/TIMESTAMP2/TIME2, big-endian) and the pre-5.6 formats.
 */

/** "00".."99". */
const PAD2: string[] = [];
for (let i = 0; i < 100; i++) PAD2.push(i < 10 ? `0${i}` : String(i));

function pad2(n: number): string {
  return n < 100 ? PAD2[n] : String(n);
}

function pad4(n: number): string {
  if (n >= 1000) return String(n);
  if (n >= 100) return `0${n}`;
  return n >= 10 ? `00${n}` : `000${n}`;
}

/** The first `fsp` digits of a microsecond count, with the dot; '' when fsp is 0. */
export function fraction(micros: number, fsp: number): string {
  if (fsp === 0) return '';
  const s = String(micros);
  return '.' + ('000000'.slice(s.length) + s).slice(0, fsp);
}

/** Microseconds of the fractional part stored after a mysql56 temporal value: (fsp + 1) / 2 big-endian bytes. */
export function readFraction(buf: Buffer, p: number, fsp: number): number {
  switch (fsp) {
    case 1:
    case 2:
      return buf[p] * 10000;
    case 3:
    case 4:
      return ((buf[p] << 8) | buf[p + 1]) * 100;
    case 5:
    case 6:
      return (buf[p] << 16) | (buf[p + 1] << 8) | buf[p + 2];
    default:
      return 0;
  }
}

/** Bytes of the fractional part for a precision. */
export function fractionBytes(fsp: number): number {
  return (fsp + 1) >> 1;
}

/** DATE (3 bytes little-endian: day 5 bits, month 4 bits, year 15 bits). */
export function formatDate(buf: Buffer, p: number): string {
  const v = buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16);
  return `${pad4(v >>> 9)}-${PAD2[(v >>> 5) & 15]}-${PAD2[v & 31]}`;
}

/**
 * DATETIME2: 5 bytes big-endian, value + 0x8000000000: sign (1 bit), year*13+month (17), day (5), hour (5),
 * minute (6), second (6); then the fraction.
 */
export function formatDatetime2(buf: Buffer, p: number, fsp: number): string {
  const packed =
    buf[p] * 0x100000000 + (((buf[p + 1] << 24) | (buf[p + 2] << 16) | (buf[p + 3] << 8) | buf[p + 4]) >>> 0);
  // Rows written together share their timestamps (date_created, date_changed): remember the last one formatted.
  let head: string;
  if (packed === lastDatetimePacked) head = lastDatetime;
  else {
    head = datetimeHead(packed);
    lastDatetimePacked = packed;
    lastDatetime = head;
  }
  return fsp === 0 ? head : head + fraction(readFraction(buf, p + 5, fsp), fsp);
}

let lastDatetimePacked = -1;
let lastDatetime = '';

/** "YYYY-MM-DD HH:MM:SS" of a DATETIME2 integer part. */
function datetimeHead(packed: number): string {
  let v = packed - 0x8000000000;
  if (v < 0) v = -v; // negative DATETIME values do not exist in SQL; keep the digits rather than throw
  const ymd = Math.floor(v / 0x20000);
  const hms = v % 0x20000;
  const ym = ymd >>> 5;
  return (
    `${pad4(Math.floor(ym / 13))}-${PAD2[ym % 13]}-${PAD2[ymd & 31]} ` +
    `${PAD2[hms >>> 12]}:${PAD2[(hms >>> 6) & 63]}:${PAD2[hms & 63]}`
  );
}

/** Days since 1970-01-01 to a civil date (proleptic Gregorian), after H. Hinnant's `civil_from_days`. */
function civil(days: number): string {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${pad4(y)}-${PAD2[m]}-${PAD2[d]}`;
}

/** Unix seconds + microseconds to "YYYY-MM-DD HH:MM:SS[.f]" in UTC; 0 is the zero timestamp. */
export function formatUnixSeconds(seconds: number, micros: number, fsp: number): string {
  if (seconds === 0 && micros === 0) return '0000-00-00 00:00:00' + fraction(0, fsp);
  const days = Math.floor(seconds / 86400);
  const rem = seconds - days * 86400;
  const h = Math.floor(rem / 3600);
  const mi = Math.floor((rem % 3600) / 60);
  return `${civil(days)} ${PAD2[h]}:${PAD2[mi]}:${PAD2[rem % 60]}${fraction(micros, fsp)}`;
}

/** TIMESTAMP2: 4 bytes big-endian unix seconds, then the fraction; shown in UTC. */
export function formatTimestamp2(buf: Buffer, p: number, fsp: number): string {
  const seconds = ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0;
  return formatUnixSeconds(seconds, readFraction(buf, p + 4, fsp), fsp);
}

/**
 * TIME2: 3 bytes big-endian integer part + 0x800000 (sign 1 bit, hour 10, minute 6, second 6), then the fraction;
 * negative values store the fraction as its complement, so the packed value is rebuilt as MySQL's
 * my_time_packed_from_binary does before splitting it.
 */
export function formatTime2(buf: Buffer, p: number, fsp: number): string {
  let intpart = ((buf[p] << 16) | (buf[p + 1] << 8) | buf[p + 2]) - 0x800000;
  let packed: number; // intpart * 2^24 + microseconds, signed
  switch (fsp) {
    case 1:
    case 2: {
      let frac = buf[p + 3];
      if (intpart < 0 && frac) {
        intpart++;
        frac -= 0x100;
      }
      packed = intpart * 0x1000000 + frac * 10000;
      break;
    }
    case 3:
    case 4: {
      let frac = (buf[p + 3] << 8) | buf[p + 4];
      if (intpart < 0 && frac) {
        intpart++;
        frac -= 0x10000;
      }
      packed = intpart * 0x1000000 + frac * 100;
      break;
    }
    case 5:
    case 6:
      // One 6-byte big-endian number offset by 0x800000000000: the same as integer part * 2^24 + fraction.
      packed = intpart * 0x1000000 + ((buf[p + 3] << 16) | (buf[p + 4] << 8) | buf[p + 5]);
      break;
    default:
      packed = intpart * 0x1000000;
  }
  const negative = packed < 0;
  if (negative) packed = -packed;
  const hms = Math.floor(packed / 0x1000000);
  const micros = packed % 0x1000000;
  const hours = (hms >>> 12) & 0x3ff;
  return `${negative ? '-' : ''}${pad2(hours)}:${PAD2[(hms >>> 6) & 63]}:${PAD2[hms & 63]}${fraction(micros, fsp)}`;
}

/** Pre-5.6 TIME: 3 bytes little-endian signed HHMMSS. */
export function formatTimeOld(buf: Buffer, p: number): string {
  let v = ((buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16)) << 8) >> 8;
  const negative = v < 0;
  if (negative) v = -v;
  const s = v % 100;
  const m = Math.floor(v / 100) % 100;
  const h = Math.floor(v / 10000);
  return `${negative ? '-' : ''}${pad2(h)}:${PAD2[m]}:${PAD2[s]}`;
}

/** Pre-5.6 DATETIME: 8 bytes little-endian, the decimal number YYYYMMDDhhmmss. */
export function formatDatetimeOld(buf: Buffer, p: number): string {
  const v = buf.readUInt32LE(p) + buf.readUInt32LE(p + 4) * 0x100000000;
  const date = Math.floor(v / 1000000);
  const time = v % 1000000;
  return (
    `${pad4(Math.floor(date / 10000))}-${PAD2[Math.floor(date / 100) % 100]}-${PAD2[date % 100]} ` +
    `${PAD2[Math.floor(time / 10000)]}:${PAD2[Math.floor(time / 100) % 100]}:${PAD2[time % 100]}`
  );
}
