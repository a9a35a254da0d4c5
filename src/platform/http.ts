// The web server: Fastify with JSON errors in the contract's shape, OpenAPI at /docs, health checks.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import { AppError } from './errors.js';
import type { Logger } from './logger.js';

export interface HttpOptions {
  logger: Logger;
  /** Readiness: resolves when Redis and the database answer, throws naming what does not. */
  ready: () => Promise<void>;
  version: string;
}

export async function createHttpServer(options: HttpOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger,
    // One line per request, written by the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    trustProxy: false,
  }) as unknown as FastifyInstance;

  app.addHook('onResponse', async (request, reply) => {
    options.logger.info(
      { method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'http request',
    );
  });

  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    if (error instanceof AppError) {
      return reply.status(error.status).send({ error: { code: error.code, message: error.message, ...error.details } });
    }
    const status = error.statusCode ?? 500;
    if (error.validation) {
      return reply.status(400).send({ error: { code: 'invalid_request', message: `${error.validationContext ?? 'request'}: ${error.message}` } });
    }
    if (status >= 400 && status < 500) {
      return reply.status(status).send({ error: { code: fastifyCode(error), message: error.message } });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({ error: { code: 'internal_error', message: 'Something went wrong on our side; it has been logged.' } });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: { code: 'not_found', message: `No route for ${request.method} ${request.url.split('?')[0]}` } }),
  );

  await app.register(swagger, {
    openapi: {
      info: { title: 'seler', version: options.version, description: 'Background work on Redis: the Thumbnailer API and task results.' },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/healthz', { schema: { tags: ['health'], summary: 'The process is alive' } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { tags: ['health'], summary: 'Redis and the database answer' } }, async (_request, reply) => {
    try {
      await options.ready();
      return { status: 'ready' };
    } catch (err) {
      return reply.status(503).send({ error: { code: 'not_ready', message: (err as Error).message } });
    }
  });
  return app;
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

export const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
} as const;
