// Routes declared with zod: Fastify validates and serializes with the zod schema, /docs/json is
// generated from it, and bad input gets the error contract's 400, never a 500.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { taskView } from '../src/tasks/index.js';
import { errorResponse, invalidFieldsAs } from '../src/platform/api-shapes.js';
import { AppError } from '../src/platform/errors.js';
import { createHttpServer } from '../src/platform/http.js';
import { createLogger } from '../src/platform/logger.js';

const probeBody = z.object({ name: z.string().max(100), count: z.number().int().min(1), tags: z.array(z.string()).max(5).optional() });
const probeReply = z.object({ name: z.string(), count: z.number().int(), addedInZod: z.boolean() });

describe('routes declared with zod', () => {
  let app: FastifyInstance;
  let spec: { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> }; responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>> };

  beforeAll(async () => {
    app = await createHttpServer({ logger: createLogger('silent'), version: 'test', ready: async () => {} });
    const typed = app.withTypeProvider<ZodTypeProvider>();
    typed.post('/probe', { schema: { body: probeBody, response: { 200: probeReply, 400: errorResponse } } }, async (request) => ({
      ...request.body,
      addedInZod: true,
      notDeclared: 'dropped by the serializer',
    }));
    // A guarded route with its feature's own 400: the guard runs before validation.
    typed.post(
      '/guarded',
      {
        preValidation: async (request) => {
          if (request.headers['x-allowed'] !== 'yes') throw new AppError('not_authenticated', 'Sign in first.', 401);
        },
        ...invalidFieldsAs((fields) => new AppError('invalid_probe', Object.keys(fields).join(' '), 400, { fields })),
        schema: { body: probeBody.strict(), response: { 200: probeReply } },
      },
      async (request) => ({ ...request.body, addedInZod: true }),
    );
    // The tasks feature's response shape, as a route of its own (the feature's routes need Redis).
    typed.get('/task-shape', { schema: { response: { 200: taskView } } }, async () => ({ id: 'x', status: 'PENDING' as const }));
    await app.ready();
    spec = (await app.inject({ url: '/docs/json' })).json();
  });
  afterAll(() => app?.close());

  const post = (payload: string, contentType = 'application/json') =>
    app.inject({ method: 'POST', url: '/probe', headers: { 'content-type': contentType }, payload });

  it('documents the request and response from the zod schema, with every field of it', () => {
    const operation = spec.paths['/probe']!.post!;
    expect(operation.requestBody!.content['application/json']!.schema).toMatchObject({
      type: 'object',
      properties: { name: { type: 'string', maxLength: 100 }, count: { type: 'integer', minimum: 1 }, tags: { type: 'array', maxItems: 5 } },
      required: ['name', 'count'],
    });
    const reply = operation.responses['200']!.content!['application/json']!.schema as { properties: Record<string, unknown> };
    expect(Object.keys(reply.properties)).toEqual(Object.keys(probeReply.shape));
    const shown = spec.paths['/task-shape']!.get!.responses['200']!.content!['application/json']!.schema as { properties: Record<string, unknown> };
    expect(Object.keys(shown.properties).sort()).toEqual(Object.keys(taskView.shape).sort());
  });

  it('validates with zod and serializes only what the response schema declares', async () => {
    const res = await post(JSON.stringify({ name: 'a', count: 2, extra: 'x'.repeat(10_000) }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ name: 'a', count: 2, addedInZod: true });
  });

  it.each([
    ['malformed JSON', '{"name":', 'ctp_invalid_json_body'],
    ['a trailing comma', '{"name":"a","count":1,}', 'ctp_invalid_json_body'],
    ['wrong types', '{"name":1,"count":"2"}', 'invalid_request'],
    ['a fraction where an integer is expected', '{"name":"a","count":1.5}', 'invalid_request'],
    ['a huge known field', JSON.stringify({ name: 'x'.repeat(500_000), count: 1 }), 'invalid_request'],
    ['too many items', JSON.stringify({ name: 'a', count: 1, tags: Array(50).fill('t') }), 'invalid_request'],
    ['an array where an object is expected', '[{"name":"a","count":1}]', 'invalid_request'],
    ['an object where an array is expected', '{"name":"a","count":1,"tags":{"0":"t"}}', 'invalid_request'],
    ['null', 'null', 'invalid_request'],
    ['a prototype key', '{"__proto__":{"count":1},"name":"a"}', 'ctp_invalid_json_body'],
  ])('%s → 400 %s in the error contract', async (_what, payload, code) => {
    const res = await post(payload);
    expect(res.statusCode, res.body).toBe(400);
    const body = res.json() as { error: { code: string; message: string } };
    expect(body.error.code).toBe(code);
    expect(typeof body.error.message).toBe("string");
  });

  it('names the invalid part and field in the 400', async () => {
    const res = await post('{"name":1,"count":1}');
    expect(res.json()).toMatchObject({ error: { code: 'invalid_request', message: expect.stringMatching(/^body: .*name/) } });
  });

  describe('a route answering with the feature’s field errors (invalidFieldsAs) behind a guard in preValidation', () => {
    const guarded = (payload: string, allowed = true) =>
      app.inject({ method: 'POST', url: '/guarded', headers: { 'content-type': 'application/json', ...(allowed ? { 'x-allowed': 'yes' } : {}) }, payload });

    it('refuses a caller the guard refuses before looking at the body', async () => {
      const res = await guarded('{"name":1}', false);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: { code: 'not_authenticated', message: 'Sign in first.' } });
    });

    it('names every bad field, nested ones by path and unknown keys as their own field', async () => {
      const res = await guarded(JSON.stringify({ name: 1, count: 0, tags: ['a', 2], colour: 'red' }));
      expect(res.statusCode).toBe(400);
      const { error } = res.json() as { error: { code: string; fields: Record<string, string> } };
      expect(error.code).toBe('invalid_probe');
      expect(Object.keys(error.fields).sort()).toEqual(['colour', 'count', 'name', 'tags.1']);
      expect(error.fields.colour).toBe('unknown field "colour"');
    });

    it('names the body as a whole `_` when it is not an object', async () => {
      const res = await guarded('[1]');
      expect(res.json()).toMatchObject({ error: { code: 'invalid_probe', fields: { _: expect.any(String) } } });
    });

    it('lets a good body through', async () => {
      const res = await guarded('{"name":"a","count":3}');
      expect(res.json()).toEqual({ name: 'a', count: 3, addedInZod: true });
    });
  });
});
