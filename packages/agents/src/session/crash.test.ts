import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const fixture = fileURLToPath(new URL('../test-fixtures/crash-session.ts', import.meta.url));

/** Runs the fixture; with `killOn`, kills it with SIGKILL as soon as it prints that line. */
function child(args: string[], killOn?: string): Promise<{ stdout: string; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    // node with tsx's loader (not the tsx CLI, which would put a second process between the test and the session).
    const process = spawn(globalThis.process.execPath, ['--import', 'tsx', fixture, ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    process.stdout.on('data', (data) => {
      stdout += data;
      if (killOn && stdout.includes(killOn)) process.kill('SIGKILL');
    });
    process.stderr.on('data', (data) => (stderr += data));
    process.on('error', reject);
    process.on('close', (code, signal) => {
      if (code !== 0 && signal === null) reject(new Error(`fixture exited ${code}: ${stderr}`));
      else resolve({ stdout, signal });
    });
  });
}

describe('a session killed mid-step', () => {
  it('resumes in a new process after a kill during a model call, without running a finished tool call again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-crash-'));
    const ledger = join(dir, 'ledger.txt');
    const killed = await child(['run', dir, ledger, 'model'], 'model-waiting');
    expect(killed.signal).toBe('SIGKILL');
    expect(await readFile(ledger, 'utf8')).toBe('entry\n');

    const resumed = await child(['resume', dir, ledger, 'model']);
    expect(JSON.parse(resumed.stdout.trim().split('\n').at(-1)!)).toEqual({
      status: 'finished',
      output: 'The ledger has one entry',
    });
    expect(await readFile(ledger, 'utf8')).toBe('entry\n');
  });

  it('surfaces a call that started before a kill for a decision, instead of running it twice', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-crash-'));
    const ledger = join(dir, 'ledger.txt');
    const killed = await child(['run', dir, ledger, 'tool'], 'tool-blocked');
    expect(killed.signal).toBe('SIGKILL');
    const session = JSON.parse(await readFile(join(dir, 'crash.json'), 'utf8'));
    expect(session.pending).toMatchObject([{ id: 'a1', key: 'crash:0:a1', state: 'started' }]);

    const resumed = await child(['resume', dir, ledger, 'tool']);
    const lines = resumed.stdout.trim().split('\n');
    expect(lines[0]).toBe('needs-decision a1');
    expect(JSON.parse(lines.at(-1)!)).toEqual({ status: 'finished', output: 'The ledger has one entry' });
    expect(await readFile(ledger, 'utf8')).toBe('entry\n');
  });
});
