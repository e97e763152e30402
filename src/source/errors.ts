/**
 * Errors of the binlog client. `fatal` errors stop the stream for good (a retry would give the same answer or, worse,
 * a wrong value); the others are connection failures that the reader retries with backoff.
 */

/** Base class: every error the binlog client raises. */
export class BinlogError extends Error {
  /** When true, reconnecting cannot help: the reader stops and reports. */
  readonly fatal: boolean;
  constructor(message: string, fatal: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.fatal = fatal;
  }
}

/** The server closed the connection, it timed out, or a network error happened. Retried with backoff. */
export class BinlogConnectionError extends BinlogError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, false, options);
  }
}

/** An event whose CRC32 does not match its bytes: the stream stops rather than decode a wrong value. */
export class ChecksumError extends BinlogError {
  constructor(
    readonly file: string,
    readonly position: number,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(
      `binlog event checksum mismatch at ${file}:${position} (event says 0x${expected.toString(16).padStart(8, '0')}, ` +
        `bytes give 0x${actual.toString(16).padStart(8, '0')}): the bytes were corrupted between the server and the ` +
        `bridge or on the server's disk; the stream stops here instead of decoding wrong values`,
      true,
    );
  }
}

/** The server answered a replication command with an error packet (ERR). */
export class ServerError extends BinlogError {
  constructor(
    readonly code: number,
    readonly sqlState: string,
    readonly serverMessage: string,
    fatal = false,
  ) {
    super(`server error ${code} (${sqlState}): ${serverMessage}`, fatal);
  }
}

/** The requested start position is no longer in the server's binlog (purged). CONTRACT section 8. */
export class PurgedPositionError extends BinlogError {
  constructor(message: string) {
    super(message, true);
  }
}

/** Another replica of the source already uses our server id (a second dump would kill the first). */
export class ServerIdConflictError extends BinlogError {
  constructor(message: string) {
    super(message, true);
  }
}

/** A protocol violation: a packet we cannot make sense of. */
export class ProtocolError extends BinlogError {
  constructor(message: string) {
    super(message, true);
  }
}

/** The source does not meet the bridge's requirements; `problems` names each one and its fix. */
export class RequirementsError extends BinlogError {
  constructor(readonly problems: Array<{ problem: string; fix: string }>) {
    super(
      `the source database does not meet the bridge's requirements:\n` +
        problems.map((p, i) => `  ${i + 1}. ${p.problem}\n     fix: ${p.fix}`).join('\n'),
      true,
    );
  }
}
