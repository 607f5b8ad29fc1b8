import { readFileSync } from 'node:fs';
import { compileErrors, validate } from '@readme/openapi-parser';
import type { OpenAPIV3_1 } from 'openapi-types';
import t, { type Test } from 'tap';
import { TestClient, startTestApp } from './helpers/server.js';

/** The routes of the README's "The demo's JSON API" table, each with every status its row names. */
function documentedRoutes(): Array<{ method: string; path: string; statuses: string[] }> {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const table = /^## The demo's JSON API\n[\s\S]*?\n(\| route \|[\s\S]*?)\n\n/m.exec(readme)?.[1];
  if (!table) throw new Error("no table under \"The demo's JSON API\" in README.md");
  return table
    .split('\n')
    .slice(2)
    .map((row) => {
      const [route, , success, failures] = row.split('|').slice(1).map((cell) => cell.trim());
      const [method, path] = route!.replaceAll('`', '').split(' ');
      const statuses = [...`${success} ${failures}`.matchAll(/\b[1-5]\d\d\b/g)].map((match) => match[0]);
      return { method: method!.toLowerCase(), path: path!, statuses };
    });
}

async function fetchDocument(t: Test): Promise<OpenAPIV3_1.Document> {
  const { app } = await startTestApp(t);
  const response = await new TestClient(app).get('/openapi.json');
  t.equal(response.status, 200);
  t.match(response.headers['content-type'], /^application\/json/);
  return response.json;
}

function operations(document: OpenAPIV3_1.Document): Array<[string, string, OpenAPIV3_1.OperationObject]> {
  return Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    Object.entries(item ?? {}).map(([method, operation]) => [method, path, operation as OpenAPIV3_1.OperationObject] as [string, string, OpenAPIV3_1.OperationObject]),
  );
}

t.test('GET /openapi.json is a valid OpenAPI 3.1 document', async (t) => {
  const document = await fetchDocument(t);
  t.equal(document.openapi, '3.1.0');
  const result = await validate(structuredClone(document) as never);
  t.ok(result.valid, result.valid ? 'valid' : compileErrors(result));
  t.same(result.warnings, [], 'no warnings');
});

t.test('every route of the JSON API table in README.md is in the document, with every status its row names', async (t) => {
  const document = await fetchDocument(t);
  const routes = documentedRoutes();
  t.ok(routes.length >= 10, 'the table has its rows');
  for (const { method, path, statuses } of routes) {
    const operation = (document.paths?.[path] as Record<string, OpenAPIV3_1.OperationObject> | undefined)?.[method];
    if (!operation) {
      t.fail(`${method.toUpperCase()} ${path} is missing`);
      continue;
    }
    for (const status of statuses) t.ok(operation.responses?.[status], `${method.toUpperCase()} ${path}: ${status}`);
  }
  const tabled = new Set(routes.map(({ method, path }) => `${method} ${path}`));
  const untabled = operations(document).filter(([method, path]) => !tabled.has(`${method} ${path}`));
  t.same(untabled.map(([method, path]) => `${method} ${path}`), [], 'and nothing the table does not list (no HTML page, no /openapi.json)');
});

t.test('the document states the rules every client meets: JSON bodies, the sid cookie, { error }, Retry-After', async (t) => {
  const document = await fetchDocument(t);
  t.same(document.servers, [{ url: '/', description: 'This server' }]);
  t.match(document.components?.securitySchemes, { sid: { type: 'apiKey', in: 'cookie', name: 'sid' } });
  t.match(document.components?.schemas?.JsonError, { type: 'object', required: ['error'], properties: { error: { type: 'string' } } });

  for (const [method, path, operation] of operations(document)) {
    const name = `${method.toUpperCase()} ${path}`;
    const responses = operation.responses as Record<string, OpenAPIV3_1.ResponseObject>;
    for (const [status, response] of Object.entries(responses)) {
      if (Number(status) < 400) continue;
      t.same(response.content, { 'application/json': { schema: { $ref: '#/components/schemas/JsonError' } } }, `${name} ${status} is a JsonError`);
    }
    if (responses['429']) {
      t.match(responses['429'].headers, { 'Retry-After': { required: true, schema: { type: 'integer' } } }, `${name} 429 has Retry-After`);
    }
    if (method !== 'post') continue;
    t.ok(responses['415'], `${name} answers 415 to a request that is not JSON`);
    const body = operation.requestBody as OpenAPIV3_1.RequestBodyObject;
    t.same(Object.keys(body.content), ['application/json'], `${name} takes JSON alone`);
    const schema = body.content['application/json']!.schema as OpenAPIV3_1.SchemaObject;
    // Logout ignores its body: it declares one so that the document can require the content type.
    if (path !== '/api/logout') t.equal(schema.additionalProperties, false, `${name} refuses unknown fields`);
  }

  const signedIn = operations(document).filter(([, , operation]) => operation.security?.some((requirement) => 'sid' in requirement));
  t.same(
    signedIn.map(([method, path]) => `${method} ${path}`).sort(),
    [
      'delete /api/mfa/devices/{id}',
      'get /api/me',
      'get /api/me/activity',
      'get /api/mfa/devices',
      'post /api/login/mfa',
      'post /api/me/notices/acknowledge',
      'post /api/me/password',
      'post /api/mfa/backup-codes',
      'post /api/mfa/confirm',
      'post /api/mfa/disable',
      'post /api/mfa/setup',
    ],
    'the routes that need the session say so',
  );
});

t.test('registration refuses what the document refuses, counting characters as JSON Schema does (not UTF-16 units)', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  const document = (await client.get('/openapi.json')).json as OpenAPIV3_1.Document;
  const body = document.paths?.['/api/register']?.post?.requestBody as OpenAPIV3_1.RequestBodyObject;
  const { username, password } = (body.content['application/json']!.schema as OpenAPIV3_1.SchemaObject).properties as Record<string, OpenAPIV3_1.SchemaObject>;
  const minLength = password!.minLength!;
  // One character, two UTF-16 units: a password of them is half as long as `length` says.
  const key = '\u{1F511}';

  const short = await client.post('/api/register', { username: 'emoji-short', password: key.repeat(minLength - 1) });
  t.equal(short.status, 400, `${minLength - 1} characters are too few, though ${2 * (minLength - 1)} UTF-16 units`);
  const enough = await client.post('/api/register', { username: 'emoji-enough', password: key.repeat(minLength) });
  t.equal(enough.status, 201, `${minLength} characters are enough`);

  const pattern = new RegExp(username!.pattern!);
  for (const name of ['a b', 'ab', 'ümlaut', 'tab\tname']) {
    const refused = !pattern.test(name) || name.length < username!.minLength!;
    t.ok(refused, `${JSON.stringify(name)} breaks the documented rules`);
    t.equal((await client.post('/api/register', { username: name, password: key.repeat(minLength) })).status, 400, `and is refused`);
  }
});
