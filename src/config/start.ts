/** `BRIDGE_START` and `reset-positions --start`: where a consumer with no stored position starts. */
import { parseStartSpec, type StartSpec } from '../capture/start-position.js';

/** A parsed start form. A `cursor` is decoded (and so validated) by the capture cursor codec when it is used. */
export type { StartSpec };

/**
 * Parses a start form; throws an Error whose message says which forms are accepted. Delegates to the capture
 * engine's parser, which also decodes cursors (so a bad cursor is refused at start, not when first read).
 */
export function parseStart(text: string): StartSpec {
  return parseStartSpec(text);
}

/** The text form of a start spec, as it is written in configuration. */
export function formatStart(spec: StartSpec): string {
  switch (spec.kind) {
    case 'latest':
    case 'earliest':
      return spec.kind;
    case 'gtid':
      return `gtid:${spec.gtid}`;
    case 'binlog':
      return `binlog:${spec.file}:${spec.pos}`;
    case 'cursor':
      return spec.cursor;
  }
}
