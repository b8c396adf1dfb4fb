import { recordSpans } from '@gatehouse/core/testing';
import { afterAll, beforeEach } from 'vitest';
import { createProviderServer, type ProviderServer } from './index.js';

/**
 * For a test file: a provider server and a span recorder, both reset before each test and closed after the
 * file's last one.
 */
export async function serverAndSpans(): Promise<{ server: ProviderServer; recorder: ReturnType<typeof recordSpans> }> {
  const server = await createProviderServer();
  const recorder = recordSpans();
  afterAll(async () => {
    await recorder.stop();
    await server.close();
  });
  beforeEach(() => {
    server.reset();
    recorder.reset();
  });
  return { server, recorder };
}
