/**
 * Parses a message body the way a consumer would, with the `cloudevents` SDK in structured mode (strict validation of
 * CloudEvents 1.0), and returns the body's JSON object for exact comparison (the SDK's own object normalizes `time`
 * to milliseconds and adds undefined attributes).
 */
import { HTTP, type CloudEvent } from 'cloudevents';

export function parseCloudEvent(body: string | Buffer, contentType = 'application/cloudevents+json'): Record<string, unknown> {
  const text = body.toString();
  const parsed = HTTP.toEvent({ headers: { 'content-type': contentType }, body: text }) as CloudEvent<unknown>;
  if (Array.isArray(parsed)) throw new Error('expected one event, got a batch');
  parsed.validate();
  const raw = JSON.parse(text) as Record<string, unknown>;
  if (parsed.id !== raw.id || parsed.type !== raw.type || parsed.source !== raw.source) {
    throw new Error(`the SDK read a different event than the body holds: ${parsed.id}`);
  }
  return raw;
}

/** The event as it looks after a trip through JSON (undefined fields gone). */
export function asJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
