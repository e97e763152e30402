/**
 * A structural check of an OpenAPI 3.1 document (no OpenAPI validator is among our dependencies): the required
 * fields, operations and their responses, path parameters, resolvable `$ref`s, security schemes, unique operation
 * ids, and every schema compiling as JSON Schema 2020-12 (OpenAPI 3.1's dialect). Returns the problems found.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

type Json = Record<string, any>;

function resolvePointer(doc: Json, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: any = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (node === null || typeof node !== 'object' || !(key in node)) return undefined;
    node = node[key];
  }
  return node;
}

function walk(node: unknown, path: string, visit: (n: Json, path: string) => void): void {
  if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${path}/${i}`, visit));
  else if (node && typeof node === 'object') {
    visit(node as Json, path);
    for (const [k, v] of Object.entries(node)) walk(v, `${path}/${k}`, visit);
  }
}

/** Problems of `doc` as an OpenAPI 3.1 document; empty when it passes. */
export function checkOpenApiDocument(doc: Json): string[] {
  const problems: string[] = [];
  const must = (cond: unknown, msg: string) => {
    if (!cond) problems.push(msg);
  };
  must(typeof doc.openapi === 'string' && /^3\.1\.\d+$/.test(doc.openapi), `openapi must be 3.1.x, is ${doc.openapi}`);
  must(doc.info && typeof doc.info.title === 'string', 'info.title is required');
  must(doc.info && typeof doc.info.version === 'string', 'info.version is required');
  must(doc.paths && typeof doc.paths === 'object', 'paths is required');
  const schemes = Object.keys(doc.components?.securitySchemes ?? {});
  const operationIds = new Set<string>();
  for (const [path, item] of Object.entries<Json>(doc.paths ?? {})) {
    must(path.startsWith('/'), `path ${path} must start with /`);
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const method of Object.keys(item)) {
      if (method === 'parameters' || method.startsWith('x-') || method === 'summary' || method === 'description')
        continue;
      must(METHODS.includes(method), `${path}: ${method} is not an HTTP method`);
      const op = item[method] as Json;
      const where = `${method.toUpperCase()} ${path}`;
      must(op.responses && Object.keys(op.responses).length > 0, `${where}: responses is required`);
      for (const [code, res] of Object.entries<Json>(op.responses ?? {})) {
        must(/^([1-5]\d\d|[1-5]XX|default)$/.test(code), `${where}: response key ${code} is not a status code`);
        must(
          typeof ((res.$ref ? resolvePointer(doc, res.$ref) : res) as Json | undefined)?.description === 'string',
          `${where} ${code}: description is required`,
        );
      }
      if (op.operationId) {
        must(!operationIds.has(op.operationId), `${where}: operationId ${op.operationId} is not unique`);
        operationIds.add(op.operationId);
      }
      const params = [...(item.parameters ?? []), ...(op.parameters ?? [])] as Json[];
      for (const p of params) {
        must(
          typeof p.name === 'string' && ['query', 'header', 'path', 'cookie'].includes(p.in),
          `${where}: bad parameter ${JSON.stringify(p)}`,
        );
        if (p.in === 'path') {
          must(p.required === true, `${where}: path parameter ${p.name} must be required`);
          must(templated.includes(p.name), `${where}: path parameter ${p.name} is not in the path`);
        }
      }
      for (const name of templated)
        must(
          params.some((p) => p.in === 'path' && p.name === name),
          `${where}: {${name}} has no path parameter`,
        );
      for (const req of (op.security ?? []) as Json[])
        for (const s of Object.keys(req)) must(schemes.includes(s), `${where}: unknown security scheme ${s}`);
    }
  }
  walk(doc, '#', (node, path) => {
    if (typeof node.$ref === 'string')
      must(resolvePointer(doc, node.$ref) !== undefined, `${path}: $ref ${node.$ref} does not resolve`);
  });
  // Every schema must be valid JSON Schema 2020-12; refs into components resolve through the whole document.
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  ajv.addSchema({ ...doc, $id: 'openapi:doc' } as object, 'openapi:doc');
  walk(doc, '#', (node, path) => {
    if (!node.schema || typeof node.schema !== 'object' || path.includes('/components/schemas')) return;
    try {
      ajv.compile(rewriteRefs(node.schema) as object);
    } catch (err) {
      problems.push(`${path}/schema: ${(err as Error).message}`);
    }
  });
  for (const [name, schema] of Object.entries<Json>(doc.components?.schemas ?? {})) {
    try {
      ajv.compile(rewriteRefs(schema) as object);
    } catch (err) {
      problems.push(`components.schemas.${name}: ${(err as Error).message}`);
    }
  }
  return problems;
}

/** `#/components/...` refs point into the document registered as `openapi:doc`. */
function rewriteRefs(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema), (k, v) =>
    k === '$ref' && typeof v === 'string' && v.startsWith('#/components/') ? `openapi:doc${v}` : v,
  );
}
