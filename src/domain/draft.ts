/**
 * An event as a builder makes it: the final BridgeEvent object, its numbering (id, source, time, txid, txseq, txsize,
 * cursor) still blank until the mapper's envelope step fills them in place. Built in its final shape from the start, so
 * the envelope allocates nothing per event and every event of one shape shares one hidden class.
 */
import type { BridgeEvent } from './types.js';

/** An event whose numbering is not filled in yet (see {@link draftEvent}). */
export type Draft = BridgeEvent;

/**
 * A draft with the contract's attribute order. One object literal per shape (without subject; with subject and
 * patientuuid; with subject only): the objects stay in fast mode, where a `delete` would turn them into dictionaries
 * (slower to read and to serialize in every channel).
 */
export function draftEvent(
  type: string,
  subject: string | undefined,
  openmrsclass: string,
  openmrsaction: string,
  data: Record<string, unknown>,
  patientuuid?: unknown,
): Draft {
  if (!subject)
    return {
      specversion: '1.0',
      id: '',
      source: '',
      type,
      time: '',
      datacontenttype: 'application/json',
      openmrsclass,
      openmrsaction,
      txid: '',
      txseq: 0,
      txsize: 0,
      cursor: '',
      data,
    };
  if (typeof patientuuid === 'string')
    return {
      specversion: '1.0',
      id: '',
      source: '',
      type,
      subject,
      time: '',
      datacontenttype: 'application/json',
      openmrsclass,
      openmrsaction,
      patientuuid,
      txid: '',
      txseq: 0,
      txsize: 0,
      cursor: '',
      data,
    };
  return {
    specversion: '1.0',
    id: '',
    source: '',
    type,
    subject,
    time: '',
    datacontenttype: 'application/json',
    openmrsclass,
    openmrsaction,
    txid: '',
    txseq: 0,
    txsize: 0,
    cursor: '',
    data,
  };
}
