/**
 * Error answers of the admin API (CONTRACT.md section 8): 400 `{error, details: [{path, message}]}` naming each bad
 * field, for schema violations as much as for checks done in handlers (a refused URL).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/** One bad field. */
export interface ErrorDetail {
  path: string;
  message: string;
}

/** Thrown by handlers for a 400 that names fields. */
export class BadRequestError extends Error {
  constructor(
    message: string,
    readonly details: ErrorDetail[],
  ) {
    super(message);
  }
}

/** The fields a validation error names. */
export function validationDetails(err: FastifyError): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  for (const v of err.validation ?? []) {
    const base = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
    const params = v.params as { keys?: string[]; expected?: unknown; input?: unknown };
    if (v.keyword === 'unrecognized_keys' && Array.isArray(params.keys)) {
      for (const key of params.keys)
        details.push({ path: base ? `${base}.${key}` : key, message: 'is not a known field' });
      continue;
    }
    let message = v.message ?? 'is invalid';
    if (v.keyword === 'invalid_type' && /received undefined/.test(message)) message = 'is required';
    details.push({ path: base || err.validationContext || 'body', message });
  }
  return details;
}

/** The error handler of the admin API's scope. */
export function apiErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof BadRequestError) return reply.code(400).send({ error: err.message, details: err.details });
  if (err.validation) {
    const where = err.validationContext ?? 'request';
    return reply.code(400).send({ error: `invalid ${where}`, details: validationDetails(err) });
  }
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    // fastify's own 4xx (malformed JSON, wrong content type, body too large): say what is wrong with the body.
    return reply.code(status).send({ error: err.message, details: [{ path: 'body', message: err.message }] });
  }
  req.log.error({ err }, 'admin API error');
  return reply.code(500).send({ error: 'internal error' });
}
