// The web server: Fastify with JSON errors in the contract's shape, OpenAPI at /docs, health checks.
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifySchema } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponse } from './api-shapes.js';
import { AppError } from './errors.js';
import { platformError } from './platform-errors.js';
import { installInputLimits } from './input-limits.js';
import type { Logger } from './logger.js';
import { clusterErrorSentence, isRedisUnavailableError, type Redis } from './redis.js';
import { OPENAPI_TAGS, SECURITY_SCHEMES, transformRouteDocs } from './openapi.js';
import { limitEventStreams, type EventStreamLimits } from './sse.js';

export interface HttpOptions {
  logger: Logger;
  /** Readiness: resolves when Redis and the database answer, throws naming what does not. */
  ready: () => Promise<void>;
  /** Sentences /readyz adds to a ready answer (e.g. hosts on different databases). */
  readyWarnings?: () => Promise<string[]>;
  version: string;
  /** Fastify's trustProxy (SELER_TRUST_PROXY): false means the peer's address is the client's. */
  trustProxy?: boolean | number | string;
  /**
   * Where @fastify/rate-limit keeps its counters, so every web process shares one limit; without it
   * they are per process. The plugin is registered with `global: false`: a route opts in with
   * `config: { rateLimit: {...} }` or `preHandler: app.rateLimit({...})`.
   */
  rateLimit?: { redis: Redis; keyPrefix: string };
  /** Caps of the server-sent event streams (see sse.ts); defaults when unset. */
  eventStreams?: Partial<EventStreamLimits>;
}

/** An error sent as the body alone (no headers or details): for answers made outside the error handler. */
const errorBody = (error: AppError) => ({ error: { code: error.code, message: error.message } });

/** A route as registered (one per method), with its schema as JSON Schema: for tests that walk every route. */
export interface RegisteredRoute {
  method: string;
  url: string;
  schema?: { querystring?: { properties?: Record<string, unknown> }; body?: { properties?: Record<string, unknown> }; params?: unknown; hide?: boolean };
}
const routesByServer = new WeakMap<object, RegisteredRoute[]>();

/** Every route registered on `app`'s server (by any plugin context), in registration order. */
export function registeredRoutes(app: FastifyInstance): readonly RegisteredRoute[] {
  return routesByServer.get(app.server) ?? [];
}

/**
 * The Content-Security-Policy of every page not setting its own: the Thumbnailer page (scripts and
 * styles are files; previews are blob: URLs; the favicon a data: URL), files and JSON. No framing.
 */
export const DEFAULT_CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  baseUri: ["'self'"],
  connectSrc: ["'self'"],
  fontSrc: ["'self'", 'data:'],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  imgSrc: ["'self'", 'data:', 'blob:'],
  objectSrc: ["'none'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'"],
};

/** /docs (Swagger UI): the same, with inline style attributes, which its rendering uses. */
export const DOCS_CSP =
  "default-src 'self'; base-uri 'self'; connect-src 'self'; font-src 'self' data:; form-action 'self'; frame-ancestors 'none'; " +
  "img-src 'self' data:; object-src 'none'; script-src 'self'; script-src-attr 'none'; style-src 'self' 'unsafe-inline'";

const SECURITY_HEADERS = {
  contentSecurityPolicy: { useDefaults: false, directives: DEFAULT_CSP_DIRECTIVES },
  frameguard: { action: 'deny' as const },
  referrerPolicy: { policy: 'same-origin' as const },
  // seler serves plain HTTP: HSTS belongs to the TLS-terminating proxy in front of it.
  strictTransportSecurity: false,
};

export async function createHttpServer(options: HttpOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger,
    // One line per request, written by the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    // Fastify (proxy-addr) takes a hop count too, though its types omit it.
    trustProxy: (options.trustProxy ?? false) as boolean | string,
    // Room for any task id (up to 200 characters) in a path; longer parts and undecodable URLs get the error contract, not Fastify's own body.
    routerOptions: { maxParamLength: 256 },
    frameworkErrors: (error, _request, reply: FastifyReply) => {
      if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
        const tooLong = platformError.uri_too_long();
        void reply.status(tooLong.status).send(errorBody(tooLong));
        return;
      }
      void reply.status(error.statusCode ?? 400).send({ error: { code: 'bad_url', message: 'The URL could not be decoded.' } });
    },
  }) as unknown as FastifyInstance;

  if (options.eventStreams) limitEventStreams(app, options.eventStreams);
  installInputLimits(app);
  const routes: RegisteredRoute[] = [];
  routesByServer.set(app.server, routes);
  // Every route declares its input and answers in zod (api-shapes.ts): validated and serialized with it.
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, schema: asJsonSchema(route.schema) });
  });

  app.addHook('onResponse', async (request, reply) => {
    options.logger.info(
      { method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'http request',
    );
  });

  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    // Redis down, restarting or hung: a clear 503 the client can retry, not a 500 (logged once by the connection watch).
    if (!(error instanceof AppError) && isRedisUnavailableError(error)) error = platformError.redis_unavailable();
    // A Cluster redirect or cross-slot refusal is a deployment mistake: one sentence, logged without a stack.
    const clusterSentence = error instanceof AppError ? undefined : clusterErrorSentence(error);
    if (clusterSentence) {
      request.log.error({ redis: clusterSentence }, 'Redis refused the command');
      error = platformError.redis_misconfigured(clusterSentence);
    }
    if (error instanceof AppError) {
      if (error.headers) reply.headers(error.headers);
      return reply.status(error.status).send({ error: { code: error.code, message: error.message, ...error.details } });
    }
    const status = error.statusCode ?? 500;
    if (error.validation) {
      const invalid = platformError.invalid_request(`${error.validationContext ?? 'request'}: ${error.message}`);
      return reply.status(invalid.status).send(errorBody(invalid));
    }
    if (status >= 400 && status < 500) {
      return reply.status(status).send({ error: { code: fastifyCode(error), message: error.message } });
    }
    request.log.error({ err: error }, 'unhandled error');
    const internal = platformError.internal_error();
    return reply.status(internal.status).send(errorBody(internal));
  });

  app.setNotFoundHandler((request, reply) => {
    const missing = platformError.not_found(request.method, request.url.split('?')[0]!);
    return reply.status(missing.status).send(errorBody(missing));
  });

  await app.register(rateLimit, {
    global: false,
    ...(options.rateLimit ? { redis: options.rateLimit.redis, nameSpace: `${options.rateLimit.keyPrefix}rl:` } : {}),
    // A Redis that does not answer must not turn every limited route into a 500: let the request through.
    skipOnError: true,
    errorResponseBuilder: (_request, context) =>
      platformError.rate_limited(context.after, context.ttl / 1000),
  });

  // Security headers on every response (pages, files, JSON, errors); a page that needs its own CSP sets it in its reply.
  await app.register(helmet, SECURITY_HEADERS);

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'seler',
        version: options.version,
        description:
          'Background work on Redis. Thumbnails and tasks first: upload images with POST /api/v1/thumbnails (no account), follow the task, download the zip. ' +
          'The staff sections need a bearer token (Authorize) or the admin’s session with its CSRF header. Every error is `{error: {code, message}}`.',
      },
      tags: OPENAPI_TAGS,
      components: { securitySchemes: SECURITY_SCHEMES },
    },
    transform: (document) => transformRouteDocs(isZodSchema(document.schema) ? { ...document, ...(jsonSchemaTransform(document) as typeof document) } : document),
  });
  // Swagger UI sets inline style attributes on what it renders, and shows schema images as data: URLs.
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: DOCS_CSP });

  // Browsers ask every page's origin for /favicon.ico, also on pages that name no icon (the log-in page, /docs).
  for (const url of ['/favicon.ico', '/favicon.svg'])
    app.get(url, { schema: { hide: true } }, async (_request, reply) =>
      reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(FAVICON_SVG),
    );
  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.get(
    '/healthz',
    { schema: { tags: ['health'], summary: 'The process is alive', response: { 200: z.object({ status: z.literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );
  typed.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'Redis and the database answer',
        response: { 200: z.object({ status: z.literal('ready'), warnings: z.array(z.string()).optional() }), 503: errorResponse },
      },
    },
    async (_request, reply) => {
      try {
        await options.ready();
        // Ready, but misconfigured in a way every web process shares (taking them all out would help nobody).
        const warnings = (await options.readyWarnings?.().catch(() => [])) ?? [];
        return warnings.length ? { status: 'ready' as const, warnings } : { status: 'ready' as const };
      } catch (err) {
        const notReady = platformError.not_ready((err as Error).message);
        return reply.status(503).send(errorBody(notReady)); // the literal the route's typed responses accept
      }
    },
  );
  return app;
}

const SCHEMA_PARTS = ['params', 'querystring', 'body', 'headers'] as const;

/** A route whose schema is declared with zod (validated, serialized and documented from it). */
function isZodSchema(schema: FastifySchema | undefined): boolean {
  if (!schema) return false;
  const parts = [...SCHEMA_PARTS.map((part) => schema[part]), ...Object.values((schema.response ?? {}) as Record<string, unknown>)];
  return parts.some((part) => part instanceof z.ZodType);
}

function asJsonSchema(schema: FastifySchema | undefined): RegisteredRoute['schema'] {
  if (!isZodSchema(schema)) return schema as RegisteredRoute['schema'];
  const json = (part: unknown) => (part instanceof z.ZodType ? z.toJSONSchema(part, { io: 'input', unrepresentable: 'any' }) : part);
  return { ...schema, ...Object.fromEntries(SCHEMA_PARTS.map((part) => [part, json(schema![part])])) } as RegisteredRoute['schema'];
}

function fastifyCode(error: FastifyError): string {
  switch (error.code) {
    case 'FST_REQ_FILE_TOO_LARGE':
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'too_large';
    case 'FST_FILES_LIMIT':
      return 'too_many_files';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'unsupported_media_type';
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return 'not_multipart';
    default:
      return (error.code ?? 'bad_request').toLowerCase().replace(/^fst_(err_)?/, '');
  }
}

/** seler's icon (the admin's blue list); the pages built by Vite carry their own as a data: URL. */
const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="#205e8a"/>' +
  '<path d="M9 11h14M9 16h14M9 21h9" stroke="#fff" stroke-width="2.5" stroke-linecap="round"/></svg>';

