// The operator endpoints in /openapi.json (/health, /healthz, /readyz, /metrics, /docs, ...):
// unsigned GET/HEAD answered by the server itself, each listed only while it is switched on.
import type { Config } from '../config.ts';

type Obj = Record<string, unknown>;

const schemaRef = (name: string): Obj => ({ $ref: `#/components/schemas/${name}` });

export function opsPaths(o: Config['observability']): Obj {
  const unsigned = { tags: ['Operations'], security: [] };
  const empty = (description: string): Obj => ({ description });
  const paths: Obj = {
    '/health': {
      get: {
        ...unsigned,
        operationId: 'Health',
        summary: 'Component status as JSON',
        description: o.health_check
          ? 'Checks that the metadata store answers and that the data directory takes a durable write.'
          : 'Deep checks are switched off: always {"status":"ok"}.',
        responses: {
          '200': { description: 'Healthy.', content: { 'application/json': { schema: schemaRef('HealthReport') } } },
          '503': {
            description: 'A check failed.',
            content: { 'application/json': { schema: schemaRef('HealthReport') } },
          },
        },
      },
    },
  };
  if (o.health_check) {
    paths['/healthz'] = {
      get: {
        ...unsigned,
        operationId: 'Liveness',
        summary: 'Liveness probe',
        responses: { '200': empty('The process answers HTTP.') },
      },
    };
    paths['/readyz'] = {
      get: {
        ...unsigned,
        operationId: 'Readiness',
        summary: 'Readiness probe',
        responses: { '200': empty('Ready.'), '503': empty('Metadata or storage is not usable.') },
      },
    };
  }
  if (o.metrics) {
    paths['/metrics'] = {
      get: {
        ...unsigned,
        operationId: 'Metrics',
        summary: 'Prometheus metrics',
        responses: {
          '200': {
            description: 'Prometheus text exposition format 0.0.4.',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    };
  }
  paths['/openapi.json'] = {
    get: {
      ...unsigned,
      operationId: 'OpenApi',
      summary: 'This document',
      responses: {
        '200': { description: 'OpenAPI 3.1.', content: { 'application/json': { schema: { type: 'object' } } } },
      },
    },
  };
  if (o.docs) {
    paths['/docs'] = {
      get: {
        ...unsigned,
        operationId: 'Docs',
        summary: 'Swagger UI for this document',
        responses: { '200': { description: 'HTML.', content: { 'text/html': { schema: { type: 'string' } } } } },
      },
    };
  }
  return paths;
}
