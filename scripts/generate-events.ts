/**
 * Generates docs/events/ (the JSON Schema of every event type and an example of each) and asyncapi.yaml (AsyncAPI 3.0:
 * the AMQP exchange, MQTT topics and the WebSocket stream with one message per type) from the zod catalog.
 *
 *   npm run generate:events            writes the files
 *   npm run generate:events -- --check exits 1 when a file is not current (CI)
 */
import { readFile, writeFile, mkdir, readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { stringify } from 'yaml';
import { EVENT_TYPES } from '../src/domain/catalog/index.js';
import { exampleEvents } from './event-examples.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const EVENTS_DIR = 'docs/events';
export const ASYNCAPI_FILE = 'asyncapi.yaml';

type Json = Record<string, unknown>;

/** The published JSON Schema (draft 2020-12) of one type. */
export function jsonSchemaOf(type: string, schema: z.ZodType): Json {
  const js = z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'any', io: 'output' }) as Json;
  return { ...js, $id: `https://openmrs-event-bridge.dev/schemas/events/${type}.schema.json` };
}

/**
 * Rewrites a draft-07 schema for AsyncAPI components: its `definitions` (shared objects like Person, Obs) become
 * component schemas, referenced as `#/components/schemas/<name>`, so the document stays small.
 */
function componentize(schema: Json, components: Json): Json {
  const defs = { ...((schema.$defs as Json) ?? {}), ...((schema.definitions as Json) ?? {}) };
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (!node || typeof node !== 'object') return node;
    const obj = node as Json;
    if (typeof obj.$ref === 'string') {
      const name = obj.$ref.replace(/^#\/(\$defs|definitions)\//, '');
      if (!(name in components)) {
        components[name] = {};
        components[name] = walk(defs[name]);
      }
      return { ...obj, $ref: `#/components/schemas/${name}` };
    }
    const out: Json = {};
    for (const [k, v] of Object.entries(obj))
      if (k !== '$defs' && k !== 'definitions' && k !== '$schema' && k !== '$id') out[k] = walk(v);
    return out;
  };
  return walk(schema) as Json;
}

const AGGREGATES = [...new Set(EVENT_TYPES.map((t) => t.aggregate))];
const ACTIONS = [
  ...new Set(EVENT_TYPES.flatMap((t) => (t.type === 'RowChanged' ? ['inserted', 'updated', 'deleted'] : [t.action]))),
];

function asyncapi(examples: Map<string, unknown>): Json {
  const messages: Json = {};
  const schemas: Json = {};
  const refs: Json = {};
  for (const t of EVENT_TYPES) {
    const js = z.toJSONSchema(t.schema, { target: 'draft-7', unrepresentable: 'any', io: 'output' }) as Json;
    // The event's own id is the top-level $ref target: keep the body as the component itself.
    const body = typeof js.$ref === 'string' ? { ...js, ...((js.definitions as Json)?.[t.type] as Json) } : js;
    delete body.$ref;
    schemas[t.type] = componentize(body, schemas);
    messages[t.type] = {
      name: t.type,
      title: t.type,
      summary: t.description,
      contentType: 'application/cloudevents+json',
      payload: { $ref: `#/components/schemas/${t.type}` },
      ...(examples.has(t.type) ? { examples: [{ name: `${t.type}Example`, payload: examples.get(t.type) }] } : {}),
    };
    refs[t.type] = { $ref: `#/components/messages/${t.type}` };
  }
  const channelMessages = (channel: string) =>
    EVENT_TYPES.map((t) => ({ $ref: `#/channels/${channel}/messages/${t.type}` }));
  const routeParams = {
    site: { description: 'BRIDGE_SITE: `[a-z0-9][a-z0-9-]*`' },
    aggregate: { enum: AGGREGATES, description: 'the aggregate part of the type, kebab case (`row` for RowChanged)' },
    action: {
      enum: ACTIONS,
      description: 'the verb part of the type, kebab case (RowChanged: inserted, updated, deleted)',
    },
  };
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'OpenMRS Event Bridge',
      version: '1.0.0',
      description:
        'Committed OpenMRS changes as typed CloudEvents 1.0 (structured JSON). Every message is one event; its `type` ' +
        'names the catalog entry. Generated from the zod catalog by `npm run generate:events`; do not edit.',
    },
    defaultContentType: 'application/cloudevents+json',
    servers: {
      rabbitmq: { host: '127.0.0.1:5672', protocol: 'amqp', description: 'BRIDGE_AMQP_URL' },
      mosquitto: { host: '127.0.0.1:1883', protocol: 'mqtt', description: 'BRIDGE_MQTT_URL' },
      bridge: { host: '127.0.0.1:8787', protocol: 'ws', description: 'the bridge HTTP API (BRIDGE_HTTP_HOST/PORT)' },
    },
    channels: {
      amqpEvents: {
        address: '{site}.{aggregate}.{action}',
        title: 'AMQP topic exchange',
        description:
          'The durable topic exchange BRIDGE_AMQP_EXCHANGE (default `openmrs.events`); routing key ' +
          '`<site>.<aggregate>.<action>`, e.g. `clinic-a.obs.voided`, `clinic-a.row.updated`. Persistent messages, ' +
          '`message_id` = event id, published with confirms.',
        servers: [{ $ref: '#/servers/rabbitmq' }],
        parameters: routeParams,
        messages: refs,
        bindings: {
          amqp: {
            is: 'routingKey',
            exchange: { name: 'openmrs.events', type: 'topic', durable: true, autoDelete: false, vhost: '/' },
            bindingVersion: '0.3.0',
          },
        },
      },
      mqttEvents: {
        address: '{prefix}/{site}/{aggregate}/{action}',
        title: 'MQTT topics',
        description:
          'Topic `<prefix>/<site>/<aggregate>/<action>` (prefix BRIDGE_MQTT_TOPIC_PREFIX, default `openmrs`), QoS 1.',
        servers: [{ $ref: '#/servers/mosquitto' }],
        parameters: { prefix: { description: 'BRIDGE_MQTT_TOPIC_PREFIX (default openmrs)' }, ...routeParams },
        messages: refs,
      },
      stream: {
        address: '/v1/stream',
        title: 'WebSocket stream',
        description:
          'One event JSON per text message. Query: `types` (comma list; RowChanged only when named), `patient` ' +
          '(uuid), `after` (a cursor: replay from there, then live), `access_token` (or an Authorization header).',
        servers: [{ $ref: '#/servers/bridge' }],
        messages: refs,
        bindings: {
          ws: {
            method: 'GET',
            query: {
              type: 'object',
              properties: {
                types: { type: 'string', description: 'comma-separated catalog types' },
                patient: { type: 'string', description: 'patient uuid' },
                after: { type: 'string', description: 'resume after this event cursor' },
                access_token: { type: 'string', description: 'bearer token for browsers' },
              },
            },
            bindingVersion: '0.1.0',
          },
        },
      },
    },
    operations: {
      receiveAmqp: {
        action: 'receive',
        channel: { $ref: '#/channels/amqpEvents' },
        messages: channelMessages('amqpEvents'),
      },
      receiveMqtt: {
        action: 'receive',
        channel: { $ref: '#/channels/mqttEvents' },
        messages: channelMessages('mqttEvents'),
      },
      receiveStream: { action: 'receive', channel: { $ref: '#/channels/stream' }, messages: channelMessages('stream') },
    },
    components: { schemas, messages },
  };
}

/** Renders every generated file: relative path -> content. */
export async function renderEventDocs(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const examples = new Map<string, unknown>();
  for (const s of await exampleEvents()) for (const e of s.events) if (!examples.has(e.type)) examples.set(e.type, e);
  const index: string[] = [
    '# Event schemas',
    '',
    'Generated from the zod catalog (`src/domain/catalog`) by `npm run generate:events`; do not edit. The mapping rules',
    'are in [../events.md](../events.md); the pub/sub description is [../../asyncapi.yaml](../../asyncapi.yaml).',
    '',
    '| type | routing | Event module | schema | example |',
    '|---|---|---|---|---|',
  ];
  for (const t of EVENT_TYPES) {
    files.set(`${EVENTS_DIR}/${t.type}.schema.json`, JSON.stringify(jsonSchemaOf(t.type, t.schema), null, 2) + '\n');
    const example = examples.get(t.type);
    if (!example) throw new Error(`no example event for ${t.type}: add a scenario to scripts/event-examples.ts`);
    files.set(`${EVENTS_DIR}/${t.type}.example.json`, JSON.stringify(example, null, 2) + '\n');
    const routing =
      t.type === 'RowChanged' ? '`row.inserted` / `row.updated` / `row.deleted`' : `\`${t.aggregate}.${t.action}\``;
    const action = t.openmrsaction ?? 'CREATED / UPDATED / PURGED';
    index.push(
      `| ${t.type} | ${routing} | ${action} | [schema](${t.type}.schema.json) | [example](${t.type}.example.json) |`,
    );
  }
  files.set(`${EVENTS_DIR}/README.md`, index.join('\n') + '\n');
  files.set(
    ASYNCAPI_FILE,
    '# Generated by `npm run generate:events` from src/domain/catalog; do not edit.\n' +
      stringify(asyncapi(examples), { lineWidth: 0, aliasDuplicateObjects: false }),
  );
  return files;
}

/** Files under docs/events that the generator does not produce (stale ones). */
async function staleFiles(files: Map<string, string>): Promise<string[]> {
  const present = await readdir(join(ROOT, EVENTS_DIR)).catch(() => [] as string[]);
  return present.map((f) => `${EVENTS_DIR}/${f}`).filter((f) => !files.has(f));
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const files = await renderEventDocs();
  const outdated: string[] = [];
  for (const [rel, content] of files) {
    const path = join(ROOT, rel);
    const current = await readFile(path, 'utf8').catch(() => null);
    if (current === content) continue;
    if (check) outdated.push(rel);
    else {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content);
    }
  }
  const stale = await staleFiles(files);
  if (check) {
    if (outdated.length || stale.length) {
      console.error(`not current: ${[...outdated, ...stale].join(', ')}\nrun: npm run generate:events`);
      process.exit(1);
    }
    console.log(`${files.size} files current`);
  } else {
    if (stale.length) console.warn(`not generated (delete them?): ${stale.join(', ')}`);
    console.log(`wrote ${files.size} files`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
