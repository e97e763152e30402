/**
 * Node's Buffer has undocumented but stable fast slicers (`utf8Slice`, `latin1Slice`, ...) that skip the argument
 * normalization of `toString()`; pino and others use them on hot paths. @types/node does not declare them.
 */
declare global {
  interface Buffer {
    utf8Slice(start: number, end: number): string;
    latin1Slice(start: number, end: number): string;
    asciiSlice(start: number, end: number): string;
    hexSlice(start: number, end: number): string;
    ucs2Slice(start: number, end: number): string;
  }
}

export {};
