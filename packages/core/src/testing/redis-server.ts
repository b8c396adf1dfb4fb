import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, Socket } from 'node:net';

/** A `redis-server` started by `startRedisServer()`. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>` (with the password when one was asked for). */
  url: string;
  port: number;
  /** Stops the server and waits for it to exit. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartRedisServerOptions {
  /** Requires this password (`--requirepass`); the URL carries it. */
  password?: string;
  /** The binary to run; default `redis-server` from `PATH`. */
  command?: string;
  /** How long to wait for the server to answer PING; default 10 s. */
  startTimeoutMs?: number;
}

const installHint =
  'Install it (Debian/Ubuntu: `apt-get install -y redis-server`, macOS: `brew install redis`) so the Redis store tests can run.';

/**
 * Starts a real `redis-server` on a free local port with persistence off, for tests of the Redis store.
 * Throws when `redis-server` is not installed: Redis tests fail rather than skip.
 *
 * @example
 * const redis = await startRedisServer();
 * const store = new RedisStore({ url: redis.url });
 * // …
 * await store.close();
 * await redis.stop();
 */
export async function startRedisServer(options: StartRedisServerOptions = {}): Promise<RedisServer> {
  // Another process may take the free port between our probe and redis binding it; try a few ports.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await startOn(port, options);
    } catch (error) {
      if (error instanceof RedisServerMissingError) throw error;
      lastError = error;
    }
  }
  throw lastError;
}

class RedisServerMissingError extends Error {
  constructor(command: string) {
    super(`\`${command}\` was not found on PATH. ${installHint}`);
    this.name = 'RedisServerMissingError';
  }
}

async function startOn(port: number, options: StartRedisServerOptions): Promise<RedisServer> {
  const command = options.command ?? 'redis-server';
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  if (options.password !== undefined) args.push('--requirepass', options.password);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));

  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'ENOENT' ? new RedisServerMissingError(command) : error),
    );
    child.once('exit', (code, signal) =>
      reject(new Error(`redis-server exited (${signal ?? code}) before answering PING on port ${port}:\n${output}`)),
    );
  });
  failed.catch(() => {});
  // A crashed test run must not leave a server behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const timeoutMs = options.startTimeoutMs ?? 10_000;
  try {
    await Promise.race([waitForPing(port, options.password, timeoutMs), failed]);
  } catch (error) {
    process.off('exit', killOnExit);
    await stopChild(child);
    throw error;
  }

  const auth = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`;
  let stopping: Promise<void> | undefined;
  return {
    url: `redis://${auth}127.0.0.1:${port}`,
    port,
    stop() {
      process.off('exit', killOnExit);
      stopping ??= stopChild(child);
      return stopping;
    },
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('Could not find a free port');
  return address.port;
}

async function waitForPing(port: number, password: string | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ping(port, password)) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not answer PING on port ${port} in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** One PING over a raw socket, so this helper needs no Redis client library. */
function ping(port: number, password: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString();
      if (answer.includes('+PONG\r\n')) done(true);
      else if (answer.includes('-')) done(false);
    });
    socket.connect(port, '127.0.0.1', () => {
      const auth = password === undefined ? '' : command(['AUTH', password]);
      socket.write(`${auth}${command(['PING'])}`);
    });
  });
}

function command(parts: string[]): string {
  return `*${parts.length}\r\n${parts.map((part) => `$${Buffer.byteLength(part)}\r\n${part}\r\n`).join('')}`;
}
