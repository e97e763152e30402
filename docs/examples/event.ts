/**
 * The envelope every channel carries (CONTRACT section 4), for examples that do not import the package's types.
 * In an application, `import type { BridgeEvent, ObsCreated } from 'openmrs-event-bridge'` gives the typed catalog.
 */
export interface BridgeEvent {
  id: string;
  type: string;
  subject?: string;
  time: string;
  patientuuid?: string;
  txid: string;
  txseq: number;
  txsize: number;
  cursor: string;
  data: Record<string, unknown>;
}
