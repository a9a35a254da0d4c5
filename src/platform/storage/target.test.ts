import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.js';
import { ConfigError } from '../errors.js';
import { parseStorageTarget } from './target.js';

const DIR = '/data/media';

describe('SELER_STORAGE and the S3 variables', () => {
  it('unset or "local": the media directory', () => {
    expect(parseStorageTarget({}, DIR)).toEqual({ kind: 'local', dir: DIR });
    expect(parseStorageTarget({ SELER_STORAGE: 'local' }, DIR)).toEqual({ kind: 'local', dir: DIR });
  });

  it('s3://bucket/prefix with endpoint, region, path style and credentials', () => {
    expect(
      parseStorageTarget(
        {
          SELER_STORAGE: 's3://my-bucket/seler/prod/',
          SELER_S3_ENDPOINT: 'http://127.0.0.1:8080',
          SELER_S3_REGION: 'eu-west-1',
          AWS_ACCESS_KEY_ID: 'id',
          AWS_SECRET_ACCESS_KEY: 'secret',
        },
        DIR,
      ),
    ).toEqual({
      kind: 's3',
      bucket: 'my-bucket',
      prefix: 'seler/prod/',
      endpoint: 'http://127.0.0.1:8080',
      region: 'eu-west-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
    });
    // AWS itself: virtual-hosted style, AWS_REGION, the SDK's own credential chain.
    expect(parseStorageTarget({ SELER_STORAGE: 's3://b.example', AWS_REGION: 'us-west-2' }, DIR)).toEqual({
      kind: 's3',
      bucket: 'b.example',
      prefix: '',
      region: 'us-west-2',
      forcePathStyle: false,
    });
    expect(parseStorageTarget({ SELER_STORAGE: 's3://bkt', SELER_S3_ENDPOINT: 'https://s3.example.com', SELER_S3_FORCE_PATH_STYLE: 'false' }, DIR)).toMatchObject({
      forcePathStyle: false,
      endpoint: 'https://s3.example.com',
    });
  });

  it.each([
    [{ SELER_STORAGE: 'http://bucket/x' }, /^SELER_STORAGE must be s3:\/\/bucket/],
    [{ SELER_STORAGE: 's3:/bucket' }, /^SELER_STORAGE must be s3:\/\/bucket/],
    [{ SELER_STORAGE: 's3://' }, /^SELER_STORAGE names the bucket ""/],
    [{ SELER_STORAGE: 's3://My_Bucket' }, /^SELER_STORAGE names the bucket "My_Bucket", which is not a valid S3 bucket name/],
    [{ SELER_STORAGE: 's3://ab' }, /not a valid S3 bucket name/],
    [{ SELER_STORAGE: 's3://bucket?versionId=1' }, /^SELER_STORAGE must be/],
    [{ SELER_STORAGE: 's3://bucket/../x' }, /^SELER_STORAGE has the prefix/],
    [{ SELER_STORAGE: 's3://bucket/a b' }, /^SELER_STORAGE has the prefix/],
    [{ SELER_STORAGE: 's3://bucket', SELER_S3_ENDPOINT: 'localhost:9000' }, /^SELER_S3_ENDPOINT must be an http:\/\/ or https:\/\/ URL/],
    [{ SELER_STORAGE: 's3://bucket', SELER_S3_ENDPOINT: 'http://u:p@host:9000' }, /^SELER_S3_ENDPOINT must be/],
    [{ SELER_STORAGE: 's3://bucket', SELER_S3_ENDPOINT: 'http://host:9000/bucket' }, /^SELER_S3_ENDPOINT must be/],
    [{ SELER_STORAGE: 's3://bucket', SELER_S3_REGION: 'EU WEST' }, /^SELER_S3_REGION must be a region name/],
    [{ SELER_STORAGE: 's3://bucket', SELER_S3_FORCE_PATH_STYLE: 'yes' }, /^SELER_S3_FORCE_PATH_STYLE must be true or false/],
    [{ SELER_STORAGE: 's3://bucket', AWS_ACCESS_KEY_ID: 'id' }, /^AWS_SECRET_ACCESS_KEY is missing/],
    [{ SELER_STORAGE: 's3://bucket', AWS_SECRET_ACCESS_KEY: 's' }, /^AWS_ACCESS_KEY_ID is missing/],
    [{ SELER_S3_ENDPOINT: 'http://127.0.0.1:9000' }, /^SELER_S3_ENDPOINT is set but SELER_STORAGE is not an s3:\/\/ URL/],
  ])('refuses %o with one sentence naming the variable', (env, message) => {
    let error: unknown;
    try {
      parseStorageTarget(env, DIR);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('the configuration: local by default, S3 from SELER_STORAGE; presigned redirects only on S3; a bad TTL refused', () => {
    const local = loadConfig({ SELER_DATA_DIR: '/srv/seler' }, '/');
    expect(local.storage).toEqual({ kind: 'local', dir: '/srv/seler/media' });
    expect(local.downloads).toEqual({ redirect: 'off', urlTtlSeconds: 300 });
    const s3 = loadConfig({ SELER_STORAGE: 's3://bucket/p', SELER_STORAGE_REDIRECT: 'presigned', SELER_STORAGE_URL_TTL: '60' }, '/');
    expect(s3.storage).toMatchObject({ kind: 's3', bucket: 'bucket', prefix: 'p/' });
    expect(s3.downloads).toEqual({ redirect: 'presigned', urlTtlSeconds: 60 });
    expect(() => loadConfig({ SELER_STORAGE_REDIRECT: 'presigned' }, '/')).toThrow(/^SELER_STORAGE_REDIRECT=presigned needs SELER_STORAGE=s3:/);
    expect(() => loadConfig({ SELER_STORAGE_REDIRECT: 'always' }, '/')).toThrow(/^SELER_STORAGE_REDIRECT must be off or presigned/);
    expect(() => loadConfig({ SELER_STORAGE: 's3://b', SELER_STORAGE_URL_TTL: '0' }, '/')).toThrow(/^SELER_STORAGE_URL_TTL must be 1-604800 seconds/);
  });
});
