/**
 * NEWDECIMAL values to exact strings. Storage (MySQL strings/decimal.cc, decimal2bin): the integer and fraction
 * digits in groups of 9 decimal digits per 4 big-endian bytes, a leading/trailing partial group in fewer bytes;
 * the first bit is flipped, and a negative number has every byte inverted.
 */

const DIG2BYTES = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];
const ZEROS = '000000000';

/** Bytes a DECIMAL(precision, scale) takes in a row. */
export function decimalBytes(precision: number, scale: number): number {
  const intg = precision - scale;
  return Math.floor(intg / 9) * 4 + DIG2BYTES[intg % 9] + Math.floor(scale / 9) * 4 + DIG2BYTES[scale % 9];
}

function readGroup(buf: Buffer, p: number, bytes: number, mask: number, first: boolean): number {
  let v = 0;
  for (let i = 0; i < bytes; i++) {
    let b = buf[p + i] ^ mask;
    if (first && i === 0) b ^= 0x80;
    v = v * 256 + b;
  }
  return v;
}

/** Decodes a DECIMAL(precision, scale) at `p` to its exact decimal string, e.g. "-12.500". */
export function formatDecimal(buf: Buffer, p: number, precision: number, scale: number): string {
  const intg = precision - scale;
  const intFull = Math.floor(intg / 9);
  const intPartial = intg % 9;
  const fracFull = Math.floor(scale / 9);
  const fracPartial = scale % 9;
  const negative = (buf[p] & 0x80) === 0;
  const mask = negative ? 0xff : 0;
  let first = true;
  let intStr = '';
  if (intPartial > 0) {
    const n = DIG2BYTES[intPartial];
    const v = readGroup(buf, p, n, mask, true);
    first = false;
    p += n;
    if (v !== 0) intStr = String(v);
  }
  for (let i = 0; i < intFull; i++) {
    const v = readGroup(buf, p, 4, mask, first);
    first = false;
    p += 4;
    if (intStr === '') {
      if (v !== 0) intStr = String(v);
    } else {
      const s = String(v);
      intStr += ZEROS.slice(s.length) + s;
    }
  }
  if (intStr === '') intStr = '0';
  let out = negative ? '-' + intStr : intStr;
  if (scale > 0) {
    out += '.';
    for (let i = 0; i < fracFull; i++) {
      const s = String(readGroup(buf, p, 4, mask, first));
      first = false;
      p += 4;
      out += ZEROS.slice(s.length) + s;
    }
    if (fracPartial > 0) {
      const s = String(readGroup(buf, p, DIG2BYTES[fracPartial], mask, first));
      out += ZEROS.slice(0, fracPartial - s.length) + s;
    }
  }
  return out;
}
