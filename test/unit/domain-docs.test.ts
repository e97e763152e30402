import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Parser } from '@asyncapi/parser';
import { EVENT_TYPES } from '../../src/domain/index.js';
import { renderEventDocs, ASYNCAPI_FILE } from '../../scripts/generate-events.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('generated event docs', () => {
  it('docs/events and asyncapi.yaml are current (npm run generate:events)', async () => {
    const files = await renderEventDocs();
    expect(files.size).toBe(EVENT_TYPES.length * 2 + 2);
    const outdated: string[] = [];
    for (const [rel, content] of files) {
      const current = await readFile(join(ROOT, rel), 'utf8').catch(() => null);
      if (current !== content) outdated.push(rel);
    }
    expect(outdated, 'run npm run generate:events').toEqual([]);
  });

  it('asyncapi.yaml parses with @asyncapi/parser without errors and describes every type on every channel', async () => {
    const { document, diagnostics } = await new Parser().parse(await readFile(join(ROOT, ASYNCAPI_FILE), 'utf8'));
    expect(diagnostics.filter((d) => d.severity === 0)).toEqual([]);
    expect(document).toBeDefined();
    expect(document!.version()).toBe('3.0.0');
    const channels = document!.channels().all();
    expect(channels.map((c) => c.address()).sort()).toEqual([
      '/v1/stream',
      '{prefix}/{site}/{aggregate}/{action}',
      '{site}.{aggregate}.{action}',
    ]);
    for (const c of channels)
      expect(
        c
          .messages()
          .all()
          .map((m) => m.id())
          .sort(),
      ).toEqual(EVENT_TYPES.map((t) => t.type).sort());
  });
});
