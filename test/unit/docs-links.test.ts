/**
 * Docs never point at nothing: every relative link in README.md and docs/ resolves (file and, for Markdown, the
 * #anchor), every `npm run <script>` / `npm start` / `npm test` named there is a script of package.json, and every
 * repository path named in backticks exists. The README's Quick start is exactly two commands, the second the one
 * .ci/run runs.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
  .scripts;

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return markdownFiles(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

const docs = [join(root, 'README.md'), ...markdownFiles(join(root, 'docs'))];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchors(markdown: string): Set<string> {
  const result = new Set<string>();
  const counts = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && /^#{1,6}\s+(.*)$/.exec(line);
    if (!m) continue;
    const base = m[1]
      .trim()
      .toLowerCase()
      .replace(/[`*_[\]()]/g, '')
      .replace(/[^\p{L}\p{N}\s-]/gu, '')
      .replace(/\s/g, '-');
    const n = counts.get(base) ?? 0;
    counts.set(base, n + 1);
    result.add(n === 0 ? base : `${base}-${n}`);
  }
  return result;
}

/** Markdown outside fenced code blocks (links in code are not links). */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '');
}

/** Links `[text](target)` that are not URLs or pure anchors of the same page. */
function relativeLinks(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((m) => m[1])
    .filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

const TOP_LEVEL =
  /^(src|test|demo|docs|scripts|bench|openapi|docker|\.ci)\/|^(Dockerfile|docker-compose\.yml|asyncapi\.yaml|package\.json|tsconfig\.json)$/;

/** Repository paths named in inline code, e.g. `demo/run.ts`, `docs/events/`. */
function namedPaths(markdown: string): string[] {
  return [...prose(markdown).matchAll(/`([^`\s]+)`/g)]
    .map((m) => m[1].replace(/[.,:;]+$/, ''))
    .filter((p) => TOP_LEVEL.test(p) && !/[*<>{}]/.test(p));
}

/** npm commands anywhere (prose or code): `npm run x`, `npm start`, `npm test`. */
function npmScripts(markdown: string): string[] {
  const names: string[] = [];
  for (const m of markdown.matchAll(/\bnpm\s+(run\s+([\w:.-]+)|start\b|test\b)/g)) names.push(m[2] ?? m[1]);
  return names;
}

describe.each(docs.map((file) => [relative(root, file), file]))('%s', (_name, file) => {
  const text = readFileSync(file, 'utf8');

  it('has only relative links that resolve', () => {
    const broken: string[] = [];
    for (const link of relativeLinks(text)) {
      const [path, anchor] = link.split('#');
      const target = path ? join(dirname(file), decodeURIComponent(path)) : file;
      if (!existsSync(target)) {
        broken.push(`${link} (no such file)`);
        continue;
      }
      if (anchor && target.endsWith('.md') && !anchors(readFileSync(target, 'utf8')).has(anchor)) {
        broken.push(`${link} (no heading #${anchor})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('names only npm scripts that exist', () => {
    const missing = npmScripts(text).filter((name) => !scripts[name]);
    expect(missing).toEqual([]);
  });

  it('names only repository paths that exist', () => {
    const missing = namedPaths(text).filter((p) => !existsSync(join(root, p)));
    expect(missing).toEqual([]);
  });
});

describe('README Quick start', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = /## Quick start\n([\s\S]*?)(\n## |$)/.exec(readme)?.[1] ?? '';
  const commands = [...section.matchAll(/```(?:sh|bash|shell)?\n([\s\S]*?)```/g)].map((m) => m[1].trim());

  it('is exactly two commands: the demo, then the test suite', () => {
    expect(commands).toHaveLength(2);
    expect(commands[0]).toBe('npm install && npm run demo');
    expect(commands[1]).toBe('npm ci && npm test');
  });

  it('runs the same test command as .ci/run', () => {
    const ci = readFileSync(join(root, '.ci', 'run'), 'utf8');
    // .ci/run adds flags that only quiet npm's output; the command is otherwise the README's.
    const ciCommands = ci
      .split('\n')
      .map((l) => l.replace(/\s--no-(audit|fund)\b/g, '').trim())
      .filter((l) => l.startsWith('npm '));
    expect(ciCommands).toContain(commands[1]);
  });
});

describe('docs/consuming.md', () => {
  it('quotes its TypeScript examples verbatim from docs/examples/ (which the typecheck compiles)', () => {
    const text = readFileSync(join(root, 'docs', 'consuming.md'), 'utf8');
    const examples = readdirSync(join(root, 'docs', 'examples'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => readFileSync(join(root, 'docs', 'examples', f), 'utf8'));
    const blocks = [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    for (const block of blocks)
      expect(
        examples.some((e) => e.includes(block.trim())),
        block.slice(0, 80),
      ).toBe(true);
  });
});
