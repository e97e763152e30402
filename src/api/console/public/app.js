/* global document, window, location, history, sessionStorage, WebSocket, fetch, URLSearchParams, requestAnimationFrame */
// The console of the OpenMRS Event Bridge: plain browser JS, no build step. It reads only the public API:
// the WebSocket stream /v1/stream, GET /v1/webhooks (+ deliveries), GET /readyz and GET /metrics.

/** Rows kept in the DOM: the list stays fast however many events flow through. */
const MAX_ROWS = 300;
const STATUS_EVERY_MS = 2000;
const HOOKS_EVERY_MS = 4000;

const CATALOG = [
  'PatientCreated',
  'PatientUpdated',
  'PatientVoided',
  'PatientUnvoided',
  'PatientDied',
  'PatientMerged',
  'PatientPurged',
  'VisitStarted',
  'VisitUpdated',
  'VisitEnded',
  'VisitVoided',
  'VisitUnvoided',
  'EncounterCreated',
  'EncounterUpdated',
  'EncounterVoided',
  'EncounterUnvoided',
  'ObsCreated',
  'ObsAmended',
  'ObsVoided',
  'ObsUnvoided',
  'OrderPlaced',
  'OrderUpdated',
  'OrderRevised',
  'OrderDiscontinued',
  'OrderVoided',
  'OrderUnvoided',
  'AllergyRecorded',
  'AllergyUpdated',
  'AllergyVoided',
  'AllergyUnvoided',
  'ConditionRecorded',
  'ConditionUpdated',
  'ConditionVoided',
  'ConditionUnvoided',
  'DiagnosisRecorded',
  'DiagnosisUpdated',
  'DiagnosisVoided',
  'DiagnosisUnvoided',
  'ProgramEnrollmentCreated',
  'ProgramEnrollmentUpdated',
  'ProgramEnrollmentCompleted',
  'ProgramEnrollmentVoided',
  'ProgramEnrollmentUnvoided',
  'MetadataCreated',
  'MetadataUpdated',
  'MetadataRetired',
  'MetadataUnretired',
  'MetadataPurged',
  'RowChanged',
];

const $ = (id) => document.getElementById(id);

const state = {
  token: readToken(),
  ws: null,
  /** Bumped on every (re)connect so that handlers of an old socket ignore its late messages. */
  generation: 0,
  filters: { types: '', patient: '' },
  /** Cursor of the last event shown: a dropped stream resumes `after` it, so nothing is missed. */
  lastCursor: null,
  retryMs: 500,
  paused: false,
  /** Events received but not yet drawn (bounded: only the newest MAX_ROWS can ever be visible). */
  pending: [],
  frame: false,
  received: 0,
  /** patient uuid -> display name, learned from Patient events. */
  names: new Map(),
  openHooks: new Set(),
};

function readToken() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const fromHash = hash.get('access_token') || hash.get('token');
  if (fromHash) {
    sessionStorage.setItem('bridge-token', fromHash);
    history.replaceState(null, '', location.pathname + location.search);
    return fromHash;
  }
  return sessionStorage.getItem('bridge-token') || '';
}

function authHeaders() {
  return state.token ? { authorization: `Bearer ${state.token}` } : {};
}

async function api(path) {
  const res = await fetch(path, { headers: authHeaders() });
  if (res.status === 401) needToken('The API asks for a token.');
  return res;
}

function needToken(hint) {
  $('token-form').hidden = false;
  $('token-hint').textContent = hint;
  setStreamState('token needed', 'bad');
}

// ---- the stream -------------------------------------------------------------------------------------------------

function streamUrl(resume) {
  const q = new URLSearchParams();
  if (state.filters.types) q.set('types', state.filters.types);
  if (state.filters.patient) q.set('patient', state.filters.patient);
  if (resume && state.lastCursor) q.set('after', state.lastCursor);
  if (state.token) q.set('access_token', state.token);
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const qs = q.toString();
  return `${proto}//${location.host}/v1/stream${qs ? `?${qs}` : ''}`;
}

/** Opens the stream; `resume` continues after the last event shown (a dropped connection), else starts live. */
function connect(resume) {
  const generation = ++state.generation;
  if (state.ws) {
    state.ws.onclose = null;
    state.ws.close(1000, 'filters changed');
  }
  setStreamState('connecting', 'wait');
  const ws = new WebSocket(streamUrl(resume));
  state.ws = ws;
  let opened = false;
  ws.onopen = () => {
    opened = true;
    state.retryMs = 500;
    setStreamState(describeFilters(), 'ok');
  };
  ws.onmessage = (msg) => {
    if (generation !== state.generation) return;
    let event;
    try {
      event = JSON.parse(msg.data);
    } catch {
      return;
    }
    receive(event);
  };
  ws.onclose = async (ev) => {
    if (generation !== state.generation) return;
    state.ws = null;
    if (!opened) {
      // A browser cannot see why an upgrade was refused: ask the same URL over plain HTTP, which answers 401 for a
      // missing token and 400 naming a bad filter before any upgrade.
      const probe = await fetch(streamUrl(resume).replace(/^ws/, 'http'), { headers: authHeaders() }).catch(() => null);
      if (generation !== state.generation) return;
      if (probe && probe.status === 401) {
        needToken('The stream asks for a token.');
        return;
      }
      if (probe && probe.status === 400) {
        const body = await probe.json().catch(() => null);
        const details = body && Array.isArray(body.details) ? body.details.map((d) => `${d.path}: ${d.message}`) : [];
        setStreamState(`filter refused: ${details.join('; ') || (body && body.error) || 'bad request'}`, 'bad');
        return;
      }
    }
    const reason = ev.reason ? `: ${ev.reason}` : '';
    setStreamState(`disconnected${reason}, retrying`, 'bad');
    window.setTimeout(() => generation === state.generation && connect(true), state.retryMs);
    state.retryMs = Math.min(state.retryMs * 2, 10_000);
  };
}

function describeFilters() {
  const parts = [];
  if (state.filters.types) parts.push(`types ${state.filters.types}`);
  if (state.filters.patient) parts.push(`patient ${state.filters.patient.slice(0, 8)}…`);
  return parts.length ? `live · ${parts.join(' · ')}` : 'live';
}

function setStreamState(text, kind) {
  const el = $('stream-state');
  el.textContent = text;
  el.className = `pill pill-${kind}`;
}

function receive(event) {
  state.received++;
  if (event.cursor) state.lastCursor = event.cursor;
  if (event.source && !$('site').textContent) $('site').textContent = event.source;
  learnName(event);
  state.pending.push(event);
  if (state.pending.length > MAX_ROWS) state.pending.splice(0, state.pending.length - MAX_ROWS);
  schedule();
}

function schedule() {
  if (state.frame || state.paused) return;
  state.frame = true;
  requestAnimationFrame(flush);
}

/** Draws pending events once per frame, newest on top, and trims the list to MAX_ROWS. */
function flush() {
  state.frame = false;
  const events = state.pending;
  state.pending = [];
  const body = $('event-rows');
  const fragment = document.createDocumentFragment();
  for (let i = events.length - 1; i >= 0; i--) fragment.appendChild(renderRow(events[i]));
  body.insertBefore(fragment, body.firstChild);
  let rows = body.querySelectorAll('tr.event-row').length;
  while (rows > MAX_ROWS && body.lastElementChild) {
    const last = body.lastElementChild;
    if (last.classList.contains('event-row')) rows--;
    last.remove();
  }
  $('empty').hidden = rows > 0;
  $('event-count').textContent = `${state.received.toLocaleString()} received · ${rows} shown`;
}

function renderRow(event) {
  const tr = document.createElement('tr');
  tr.className = 'event-row';
  tr.dataset.type = event.type || '';
  tr.dataset.id = event.id || '';
  if (event.patientuuid) tr.dataset.patient = event.patientuuid;
  tr.event = event;

  const time = cell(tr, 'c-time', formatTime(event.time));
  time.title = event.time || '';

  const typeCell = cell(tr, 'c-type', '');
  const badge = document.createElement('button');
  badge.type = 'button';
  badge.className = `type type-${aggregateOf(event.type)}`;
  badge.textContent = event.type || '?';
  badge.title = `${event.openmrsaction || ''} ${event.openmrsclass || ''} · click to show only ${event.type}`;
  badge.dataset.filterType = event.type || '';
  typeCell.appendChild(badge);
  if (event.type === 'RowChanged' && event.data) {
    const extra = document.createElement('span');
    extra.className = 'muted';
    extra.textContent = ` ${event.data.table || ''}${event.data.error ? ' · error' : ''}`;
    typeCell.appendChild(extra);
  }

  const patient = cell(tr, 'c-patient', '');
  if (event.patientuuid) {
    const link = document.createElement('button');
    link.type = 'button';
    link.className = 'linkish mono';
    link.dataset.filterPatient = event.patientuuid;
    link.textContent = state.names.get(event.patientuuid) || `${event.patientuuid.slice(0, 8)}…`;
    link.title = `${event.patientuuid} · click to show only this patient`;
    patient.appendChild(link);
  }
  cell(tr, 'c-subject mono', event.subject ? `${event.subject.slice(0, 8)}…` : '').title = event.subject || '';
  cell(tr, 'c-tx mono', `${event.txid || ''} · ${event.txseq || '?'}/${event.txsize || '?'}`);
  return tr;
}

function cell(tr, className, text) {
  const td = document.createElement('td');
  td.className = className;
  td.textContent = text;
  tr.appendChild(td);
  return td;
}

function formatTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleTimeString([], { hour12: false });
}

/** The aggregate part of a type in kebab case, as in routing keys: ProgramEnrollmentCreated -> program-enrollment. */
function aggregateOf(type) {
  if (!type) return 'other';
  if (type === 'RowChanged') return 'row';
  const m = /^(Patient|Visit|Encounter|Obs|Order|Allergy|Condition|Diagnosis|ProgramEnrollment|Metadata)/.exec(type);
  return m ? m[1].replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase() : 'other';
}

/** Remembers a readable name for a patient from the data of Patient events, whatever their exact shape. */
function learnName(event) {
  if (!event.patientuuid || !event.type || !event.type.startsWith('Patient') || !event.data) return;
  const d = event.data;
  const names = d.names || (d.person && d.person.names) || (d.name ? [d.name] : null);
  if (!Array.isArray(names) || names.length === 0) return;
  const n = names.find((x) => x && x.preferred) || names[0];
  const text = [n.givenName ?? n.given_name, n.familyName ?? n.family_name].filter(Boolean).join(' ');
  if (text) state.names.set(event.patientuuid, text);
}

function toggleDetail(tr) {
  const next = tr.nextElementSibling;
  if (next && next.classList.contains('detail')) {
    next.remove();
    tr.classList.remove('open');
    return;
  }
  const detail = document.createElement('tr');
  detail.className = 'detail';
  const td = document.createElement('td');
  td.colSpan = 5;
  const pre = document.createElement('pre');
  pre.textContent = JSON.stringify(tr.event, null, 2);
  td.appendChild(pre);
  detail.appendChild(td);
  tr.after(detail);
  tr.classList.add('open');
}

function applyFilters(types, patient) {
  state.filters.types = normalizeTypes(types);
  state.filters.patient = patient.trim();
  $('filter-types').value = state.filters.types;
  $('filter-patient').value = state.filters.patient;
  const q = new URLSearchParams();
  if (state.filters.types) q.set('types', state.filters.types);
  if (state.filters.patient) q.set('patient', state.filters.patient);
  const qs = q.toString();
  history.replaceState(null, '', qs ? `?${qs}` : location.pathname);
  // A new filter is a new live stream: clear what the old one showed.
  state.pending = [];
  state.lastCursor = null;
  $('event-rows').replaceChildren();
  flush();
  connect(false);
}

function normalizeTypes(text) {
  return text
    .split(/[\s,]+/)
    .map((t) => t.trim())
    .filter(Boolean)
    .join(',');
}

// ---- status: /readyz and /metrics ---------------------------------------------------------------------------------

/** Parses the Prometheus text format into samples. */
function parseMetrics(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[3]) for (const l of m[3].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return samples;
}

function sum(samples, name, pred = () => true) {
  return samples.filter((s) => s.name === name && pred(s.labels)).reduce((a, s) => a + s.value, 0);
}

let lastMetrics = [];

async function refreshStatus() {
  const [ready, metrics] = await Promise.all([api('/readyz').catch(() => null), api('/metrics').catch(() => null)]);
  renderReady(ready);
  if (metrics && metrics.ok) {
    lastMetrics = parseMetrics(await metrics.text());
    renderMetrics(lastMetrics);
  }
}

async function renderReady(res) {
  const pill = $('ready');
  if (!res) {
    pill.textContent = 'unreachable';
    pill.className = 'pill pill-bad';
    return;
  }
  pill.textContent = res.ok ? 'ready' : `not ready (${res.status})`;
  pill.className = `pill pill-${res.ok ? 'ok' : 'bad'}`;
  const body = await res.json().catch(() => null);
  const list = $('checks');
  list.replaceChildren();
  const checks = body && typeof body === 'object' ? body.checks || body.components || null : null;
  if (!checks || typeof checks !== 'object') return;
  // `[{name, ok, detail}]` as /readyz sends it, or a `{name: state}` object.
  const entries = Array.isArray(checks)
    ? checks.map((c) => [c.name, c, c.detail])
    : Object.entries(checks).map(([name, value]) => [name, value, value]);
  for (const [name, value, detail] of entries) {
    const li = document.createElement('li');
    const ok = healthy(value);
    li.className = ok === null ? '' : ok ? 'ok' : 'bad';
    li.dataset.check = name;
    li.textContent = name;
    li.title = typeof detail === 'object' ? JSON.stringify(detail, null, 1) : String(detail ?? '');
    const summary = summarize(detail);
    if (summary) li.textContent += ` · ${summary}`;
    list.appendChild(li);
  }
}

/** A short line from a check's detail: a few telling scalar fields (the whole detail is in the tooltip). */
function summarize(detail) {
  if (detail === null || detail === undefined) return '';
  if (typeof detail !== 'object') return String(detail);
  return Object.entries(detail)
    .filter(([k, v]) => v !== null && typeof v !== 'object' && !['name', 'ok', 'ready'].includes(k))
    .slice(0, 3)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

function healthy(value) {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string')
    return /^(ok|up|ready|connected|true|pass)$/i.test(value) ? true : /^(off|disabled)$/i.test(value) ? null : false;
  if (value && typeof value === 'object') {
    if ('ready' in value) return Boolean(value.ready);
    if ('ok' in value) return Boolean(value.ok);
    if ('status' in value) return healthy(value.status);
  }
  return null;
}

function renderMetrics(samples) {
  const lag = samples.find((s) => s.name === 'openmrs_bridge_capture_lag_seconds');
  const lagBytes = samples.find((s) => s.name === 'openmrs_bridge_capture_lag_bytes');
  $('lag-seconds').textContent = lag ? `${lag.value.toFixed(lag.value < 10 ? 2 : 0)} s` : '–';
  $('lag-bytes').textContent = lagBytes ? formatBytes(lagBytes.value) : '–';
  const tx = samples.find((s) => s.name === 'openmrs_bridge_transactions_total');
  $('tx-total').textContent = tx ? tx.value.toLocaleString() : '–';

  const channels = new Set(
    samples
      .filter((s) => s.name.startsWith('openmrs_bridge_channel_') && s.labels.channel)
      .map((s) => s.labels.channel),
  );
  const rows = [...channels].sort().map((ch) => {
    const is = (l) => l.channel === ch;
    const tr = document.createElement('tr');
    tr.dataset.channel = ch;
    const failed = sum(samples, 'openmrs_bridge_channel_failed_total', is);
    for (const [text, cls] of [
      [ch, ''],
      [sum(samples, 'openmrs_bridge_channel_published_total', is).toLocaleString(), 'num'],
      [failed.toLocaleString(), failed > 0 ? 'num bad-text' : 'num'],
      [sum(samples, 'openmrs_bridge_channel_inflight', is).toLocaleString(), 'num'],
    ]) {
      const td = document.createElement('td');
      td.textContent = text;
      td.className = cls;
      tr.appendChild(td);
    }
    return tr;
  });
  $('channel-rows').replaceChildren(...rows);

  // Durable consumers (amqp, mqtt, webhook:<id>): how far their confirmed position is behind the source.
  const consumers = [
    ...new Set(
      samples
        .filter((s) => s.name.startsWith('openmrs_bridge_checkpoint_') && s.labels.consumer)
        .map((s) => s.labels.consumer),
    ),
  ].sort();
  if (consumers.length === 0) {
    const tr = document.createElement('tr');
    const td = document.createElement('td');
    td.colSpan = 4;
    td.className = 'muted';
    td.textContent = 'no durable channel (AMQP and MQTT are off)';
    tr.appendChild(td);
    $('consumer-rows').replaceChildren(tr);
  } else {
    renderConsumers(samples, consumers);
  }

  const types = samples
    .filter((s) => s.name === 'openmrs_bridge_events_total' && s.labels.type && s.value > 0)
    .sort((a, b) => b.value - a.value);
  $('type-rows').replaceChildren(
    ...types.map((s) => {
      const tr = document.createElement('tr');
      const name = document.createElement('td');
      const b = document.createElement('button');
      b.type = 'button';
      b.className = `type type-${aggregateOf(s.labels.type)}`;
      b.textContent = s.labels.type;
      b.dataset.filterType = s.labels.type;
      name.appendChild(b);
      const n = document.createElement('td');
      n.className = 'num';
      n.textContent = s.value.toLocaleString();
      tr.append(name, n);
      return tr;
    }),
  );
}

/** One row per durable consumer: how far behind its confirmed position is, and whether it is catching up. */
function renderConsumers(samples, consumers) {
  $('consumer-rows').replaceChildren(
    ...consumers.map((consumer) => {
      const of = (name) => samples.find((s) => s.name === name && s.labels.consumer === consumer);
      const behind = of('openmrs_bridge_checkpoint_lag_bytes');
      const at = of('openmrs_bridge_checkpoint_commit_time_seconds');
      const catching = of('openmrs_bridge_consumer_catching_up');
      const tr = document.createElement('tr');
      tr.dataset.consumer = consumer;
      for (const [text, cls] of [
        [consumer, 'mono'],
        [behind ? formatBytes(behind.value) : '–', 'num'],
        [at && at.value > 0 ? formatTime(new Date(at.value * 1000).toISOString()) : '–', 'num'],
        [catching ? (catching.value ? 'catching up' : 'live') : '–', catching && catching.value ? 'warn-text' : ''],
      ]) {
        const td = document.createElement('td');
        td.textContent = text;
        td.className = cls;
        tr.appendChild(td);
      }
      return tr;
    }),
  );
}

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// ---- webhooks ---------------------------------------------------------------------------------------------------

function listOf(body, ...keys) {
  if (Array.isArray(body)) return body;
  for (const k of keys) if (body && Array.isArray(body[k])) return body[k];
  return [];
}

async function refreshHooks() {
  const note = $('webhooks-note');
  const res = await api('/v1/webhooks').catch(() => null);
  if (!res || !res.ok) {
    note.textContent = !res
      ? 'API unreachable'
      : res.status === 403
        ? 'Webhooks need the admin token.'
        : res.status === 401
          ? 'Webhooks need a token.'
          : `GET /v1/webhooks: ${res.status}`;
    $('webhook-list').replaceChildren();
    return;
  }
  const hooks = listOf(await res.json(), 'webhooks', 'items', 'data');
  note.textContent = hooks.length ? '' : 'No webhooks registered (POST /v1/webhooks).';
  const items = await Promise.all(hooks.slice(0, 20).map(renderHook));
  $('webhook-list').replaceChildren(...items);
}

async function deliveries(hookId, query) {
  const res = await api(`/v1/webhooks/${encodeURIComponent(hookId)}/deliveries?${query}`).catch(() => null);
  return res && res.ok ? listOf(await res.json(), 'deliveries', 'items', 'data') : [];
}

/**
 * One webhook: its status, failures (deliveries being retried after a failed attempt, and failed attempts in the
 * metrics), its dead letters (exhausted post-commit deliveries), and the latest deliveries on demand.
 */
async function renderHook(hook) {
  const li = document.createElement('li');
  li.className = 'hook';
  li.dataset.hook = hook.id;
  const [recent, pending, deadLetters] = await Promise.all([
    deliveries(hook.id, 'limit=15'),
    deliveries(hook.id, 'status=pending&limit=1000'),
    deliveries(hook.id, 'status=dead&limit=1000'),
  ]);
  const failing = pending.filter((d) => (d.attempts ?? 0) > 0).length;
  const dead = deadLetters.length;
  const attempts = lastMetrics.filter(
    (s) => s.name === 'openmrs_bridge_webhook_attempts_total' && s.labels.hook === String(hook.id),
  );
  const failedAttempts = attempts.filter((s) => s.labels.outcome !== 'ok').reduce((a, s) => a + s.value, 0);
  const okAttempts = attempts.filter((s) => s.labels.outcome === 'ok').reduce((a, s) => a + s.value, 0);
  const statusOf = (d) => String(d.status ?? '');

  const status = String(hook.status ?? (hook.enabled === false || hook.disabled ? 'disabled' : 'active'));
  const head = document.createElement('div');
  head.className = 'hook-head';
  const pill = document.createElement('span');
  pill.className = `pill pill-${status === 'active' ? 'ok' : status === 'failing' ? 'wait' : 'bad'}`;
  pill.textContent = status;
  if (hook.disabledReason) pill.title = hook.disabledReason;
  const url = document.createElement('span');
  url.className = 'mono hook-url';
  url.textContent = hook.url;
  url.title = `${hook.id}${hook.description ? ` · ${hook.description}` : ''}`;
  head.append(pill, url);

  const facts = document.createElement('div');
  facts.className = 'muted hook-facts';
  facts.textContent = [
    hook.guarantee,
    hook.types && hook.types.length ? `types ${[].concat(hook.types).join(',')}` : 'all types',
    `${okAttempts.toLocaleString()} ok`,
    `${failedAttempts.toLocaleString()} failed attempts`,
    `${failing} retrying`,
    `${dead >= 1000 ? '1000+' : dead} dead letters`,
  ].join(' · ');
  facts.dataset.failedAttempts = String(failedAttempts);
  facts.dataset.retrying = String(failing);
  facts.dataset.dead = String(dead);

  const details = document.createElement('details');
  details.open = state.openHooks.has(hook.id);
  details.addEventListener('toggle', () =>
    details.open ? state.openHooks.add(hook.id) : state.openHooks.delete(hook.id),
  );
  const summary = document.createElement('summary');
  summary.textContent = 'latest deliveries';
  details.appendChild(summary);
  const table = document.createElement('table');
  table.className = 'small';
  for (const d of recent) {
    const tr = document.createElement('tr');
    const st = statusOf(d);
    tr.className = st === 'dead' || st === 'gone' ? 'bad-text' : st === 'pending' && d.attempts > 0 ? 'warn-text' : '';
    tr.title = d.lastError ?? '';
    const when = d.lastAttemptAt ?? d.firstAttemptAt ?? '';
    for (const text of [
      st,
      d.txid ?? '',
      `${d.eventIds ? d.eventIds.length : '?'} ev.`,
      `${d.attempts ?? 0} att.`,
      d.lastStatusCode ?? '',
      when ? formatTime(when) : '',
    ]) {
      const td = document.createElement('td');
      td.textContent = String(text);
      tr.appendChild(td);
    }
    table.appendChild(tr);
  }
  details.appendChild(table);
  li.append(head, facts, details);
  return li;
}

// ---- wiring -----------------------------------------------------------------------------------------------------

function init() {
  $('catalog-types').replaceChildren(
    ...CATALOG.map((t) => {
      const o = document.createElement('option');
      o.value = t;
      return o;
    }),
  );
  const q = new URLSearchParams(location.search);
  state.filters.types = normalizeTypes(q.get('types') || '');
  state.filters.patient = (q.get('patient') || '').trim();
  $('filter-types').value = state.filters.types;
  $('filter-patient').value = state.filters.patient;

  $('filters').addEventListener('submit', (e) => {
    e.preventDefault();
    applyFilters($('filter-types').value, $('filter-patient').value);
  });
  $('clear-filters').addEventListener('click', () => applyFilters('', ''));
  $('pause').addEventListener('click', () => {
    state.paused = !state.paused;
    $('pause').textContent = state.paused ? 'Resume' : 'Pause';
    $('pause').setAttribute('aria-pressed', String(state.paused));
    if (!state.paused) schedule();
  });
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    state.token = $('token').value.trim();
    sessionStorage.setItem('bridge-token', state.token);
    $('token-form').hidden = true;
    connect(false);
    refreshStatus();
    refreshHooks();
  });
  document.addEventListener('click', (e) => {
    const target = e.target;
    if (!(target instanceof window.HTMLElement)) return;
    if (target.dataset.filterType) {
      e.stopPropagation();
      applyFilters(target.dataset.filterType, state.filters.patient);
      return;
    }
    if (target.dataset.filterPatient) {
      e.stopPropagation();
      applyFilters(state.filters.types, target.dataset.filterPatient);
      return;
    }
    const row = target.closest('tr.event-row');
    if (row) toggleDetail(row);
  });

  connect(false);
  refreshStatus();
  refreshHooks();
  window.setInterval(refreshStatus, STATUS_EVERY_MS);
  window.setInterval(refreshHooks, HOOKS_EVERY_MS);
}

init();
