/**
 * The logger the channels write to: the part of pino's (and fastify's) logger they use, so either can be passed.
 */
export interface ChannelLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that drops everything (the default when none is given). */
export const silentLogger: ChannelLogger = { info() {}, warn() {}, error() {} };
