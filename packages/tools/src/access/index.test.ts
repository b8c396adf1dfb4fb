import { posix } from 'node:path';
import { ConfigError, type Principal } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type AccessRule, compileAccess } from './index.js';

const ana: Principal = { team: 'risk', user: 'ana', tags: ['employee', 'eu'] };
const bob: Principal = { team: 'support', user: 'bob', tags: ['contractor'] };
const triage: Principal = { agent: 'triage' };

const subject = (principal: Principal, server: string, tool: string) => ({ principal, server, tool });

/** Stays under /data/public once `..` segments are resolved. */
function underPublic(args: Record<string, unknown>): boolean | string {
  if (typeof args.path !== 'string') return 'path must be a string';
  const resolved = posix.resolve('/', args.path);
  return resolved === '/data/public' || resolved.startsWith('/data/public/') || 'path must stay under /data/public';
}

describe('compileAccess', () => {
  it('is open when no rules are configured, and closed by an empty list', () => {
    const open = compileAccess(undefined);
    expect(open.open).toBe(true);
    expect(open.decide(subject(ana, 'github', 'delete_repo')).allowed).toBe(true);
    expect(open.visible(subject({}, 'github', 'delete_repo'))).toBe(true);

    const closed = compileAccess([]);
    expect(closed.open).toBe(false);
    const decision = closed.decide(subject(ana, 'github', 'get_issue'));
    expect(decision).toEqual({
      allowed: false,
      reason: 'no access rule allows team "risk", user "ana" to use github__get_issue',
    });
    expect(closed.visible(subject(ana, 'github', 'get_issue'))).toBe(false);
  });

  it('matches principals by team, user, agent and tags (all tags must be held)', () => {
    const policy = compileAccess([
      { id: 'risk', principal: { team: 'risk' }, servers: 'github' },
      { id: 'bob', principal: { user: ['bob', 'carol'] }, servers: 'jira' },
      { id: 'triage', principal: { agent: 'triage' }, servers: 'linear' },
      { id: 'eu-staff', principal: { tags: ['employee', 'eu'] }, servers: 'files' },
    ]);
    expect(policy.decide(subject(ana, 'github', 'get_issue'))).toMatchObject({ allowed: true, rule: 'risk' });
    expect(policy.decide(subject(bob, 'github', 'get_issue')).allowed).toBe(false);
    expect(policy.decide(subject(bob, 'jira', 'search'))).toMatchObject({ allowed: true, rule: 'bob' });
    expect(policy.decide(subject(ana, 'jira', 'search')).allowed).toBe(false);
    expect(policy.decide(subject(triage, 'linear', 'create'))).toMatchObject({ allowed: true, rule: 'triage' });
    expect(policy.decide(subject(ana, 'files', 'read'))).toMatchObject({ allowed: true, rule: 'eu-staff' });
    expect(policy.decide(subject({ ...ana, tags: ['employee'] }, 'files', 'read')).allowed).toBe(false);
    expect(policy.decide(subject({}, 'files', 'read')).allowed).toBe(false);
  });

  it('requires every principal field a rule names', () => {
    const policy = compileAccess([{ principal: { team: 'risk', user: 'ana' } }]);
    expect(policy.decide(subject(ana, 'github', 'x')).allowed).toBe(true);
    expect(policy.decide(subject({ team: 'risk', user: 'zoe' }, 'github', 'x')).allowed).toBe(false);
  });

  it('matches servers and tools by glob', () => {
    const policy = compileAccess([
      { id: 'reads', servers: ['github', 'git*b-enterprise'], tools: ['get_*', 'list_*', 'search_?'] },
    ]);
    expect(policy.decide(subject(ana, 'github', 'get_issue')).allowed).toBe(true);
    expect(policy.decide(subject(ana, 'gitlab-enterprise', 'list_repos')).allowed).toBe(true);
    expect(policy.decide(subject(ana, 'github', 'search_1')).allowed).toBe(true);
    expect(policy.decide(subject(ana, 'github', 'search_10')).allowed).toBe(false);
    expect(policy.decide(subject(ana, 'github', 'create_issue')).allowed).toBe(false);
    expect(policy.decide(subject(ana, 'jira', 'get_issue')).allowed).toBe(false);
    // Glob characters of regular expressions are literal.
    const dotted = compileAccess([{ tools: 'a.b' }]);
    expect(dotted.decide(subject(ana, 's', 'a.b')).allowed).toBe(true);
    expect(dotted.decide(subject(ana, 's', 'axb')).allowed).toBe(false);
  });

  it('lets a deny rule override any allow rule, whatever the order, and names it', () => {
    const policy = compileAccess([
      { id: 'all', principal: { team: 'risk' } },
      { id: 'no-deletes', effect: 'deny', tools: 'delete_*' },
    ]);
    expect(policy.decide(subject(ana, 'github', 'delete_repo'))).toEqual({
      allowed: false,
      rule: 'no-deletes',
      reason: 'denied by rule "no-deletes"',
    });
    expect(policy.visible(subject(ana, 'github', 'delete_repo'))).toBe(false);
    expect(policy.visible(subject(ana, 'github', 'get_repo'))).toBe(true);
    expect(policy.visible(subject(bob, 'github', 'get_repo'))).toBe(false);
  });

  it('reports the first matching allow rule with its approval, rate limit and timeout', () => {
    const policy = compileAccess([
      {
        id: 'writes',
        tools: 'create_*',
        approval: { timeoutMs: 5000 },
        rateLimit: { requests: 3, windowMs: 60_000 },
        timeoutMs: 2000,
      },
      { id: 'everything' },
    ]);
    expect(policy.decide(subject(ana, 'github', 'create_issue'))).toEqual({
      allowed: true,
      rule: 'writes',
      reason: 'allowed by rule "writes"',
      approval: { timeoutMs: 5000 },
      rateLimit: { requests: 3, windowMs: 60_000, per: 'principal' },
      timeoutMs: 2000,
    });
    expect(policy.decide(subject(ana, 'github', 'get_issue'))).toMatchObject({ rule: 'everything' });
    expect(policy.decide(subject(ana, 'github', 'get_issue')).approval).toBeUndefined();
  });

  it('checks arguments with a zod schema at call time and names the argument path', () => {
    const policy = compileAccess([
      {
        id: 'small-queries',
        servers: 'db',
        tools: 'query',
        arguments: z.object({
          sql: z.string().startsWith('SELECT'),
          options: z.object({ limit: z.number().max(100) }),
        }),
      },
    ]);
    const call = subject(ana, 'db', 'query');
    expect(policy.decide(call, { sql: 'SELECT 1', options: { limit: 10 } }).allowed).toBe(true);
    const tooMany = policy.decide(call, { sql: 'SELECT 1', options: { limit: 1000 } });
    expect(tooMany.allowed).toBe(false);
    expect(tooMany.rule).toBe('small-queries');
    expect(tooMany.reason).toMatch(/^argument "options\.limit": /);
    expect(policy.decide(call, { sql: 'DROP TABLE users', options: { limit: 1 } }).reason).toMatch(/^argument "sql": /);
    // Argument constraints never hide a tool at list time.
    expect(policy.visible(call)).toBe(true);
  });

  it('checks arguments with a predicate, catching ../ traversal out of /data/public', () => {
    const policy = compileAccess([
      { id: 'public-files', servers: 'files', tools: 'read_file', arguments: underPublic },
    ]);
    const call = subject(ana, 'files', 'read_file');
    expect(policy.decide(call, { path: '/data/public/report.txt' }).allowed).toBe(true);
    expect(policy.decide(call, { path: '/data/public/a/../b.txt' }).allowed).toBe(true);
    for (const path of ['/data/public/../secret/keys.txt', '/data/publicity.txt', '/etc/passwd', '../../etc/passwd']) {
      expect(policy.decide(call, { path }), path).toEqual({
        allowed: false,
        rule: 'public-files',
        reason: 'path must stay under /data/public',
      });
    }
    expect(policy.decide(call, {}).reason).toBe('path must be a string');
    expect(policy.visible(call)).toBe(true);
  });

  it('falls through to another allow rule when one rule rejects the arguments', () => {
    const policy = compileAccess([
      { id: 'public', servers: 'files', arguments: underPublic },
      { id: 'admins', servers: 'files', principal: { tags: ['admin'] } },
    ]);
    const admin = { user: 'root', tags: ['admin'] };
    expect(policy.decide(subject(admin, 'files', 'read_file'), { path: '/etc/passwd' })).toMatchObject({
      allowed: true,
      rule: 'admins',
    });
    expect(policy.decide(subject(ana, 'files', 'read_file'), { path: '/etc/passwd' }).allowed).toBe(false);
  });

  it('applies a conditional deny rule only to matching arguments, and never at list time', () => {
    const policy = compileAccess([
      { id: 'all' },
      {
        id: 'no-force-push',
        effect: 'deny',
        tools: 'push',
        arguments: (args) => (args.force === true ? 'force pushes are not allowed' : false),
      },
      { id: 'no-main', effect: 'deny', tools: 'push', arguments: z.object({ branch: z.literal('main') }) },
    ]);
    const push = subject(ana, 'git', 'push');
    expect(policy.decide(push, { branch: 'dev' }).allowed).toBe(true);
    expect(policy.decide(push, { branch: 'dev', force: true })).toEqual({
      allowed: false,
      rule: 'no-force-push',
      reason: 'force pushes are not allowed',
    });
    expect(policy.decide(push, { branch: 'main' })).toMatchObject({ allowed: false, rule: 'no-main' });
    expect(policy.visible(push)).toBe(true);
  });

  it('fails closed when a predicate throws', () => {
    const policy = compileAccess([
      {
        id: 'broken',
        arguments: () => {
          throw new Error('boom');
        },
      },
    ]);
    expect(policy.decide(subject(ana, 's', 't'), {})).toMatchObject({
      allowed: false,
      rule: 'broken',
      reason: 'the argument check of rule "broken" threw: boom',
    });
  });

  it('lets an argument check consult the policy itself', () => {
    const policy = compileAccess([
      { id: 'reads', servers: 'files', tools: 'read_file' },
      {
        id: 'copies',
        servers: 'files',
        tools: 'copy',
        // Copying is allowed where reading the source would be.
        arguments: (args, subject) =>
          policy.decide({ ...subject, tool: String(args.via) }).allowed || 'the source may not be read',
      },
    ]);
    expect(policy.decide(subject(ana, 'files', 'copy'), { via: 'read_file' })).toMatchObject({
      allowed: true,
      rule: 'copies',
    });
    expect(policy.decide(subject(ana, 'files', 'copy'), { via: 'write_file' })).toEqual({
      allowed: false,
      rule: 'copies',
      reason: 'the source may not be read',
    });
  });

  it('grants a virtual server as a unit by globs on namespaced names', () => {
    const policy = compileAccess(
      [
        { id: 'triage-kit', principal: { agent: 'triage' }, virtualServer: 'triage' },
        { id: 'triage-no-close', effect: 'deny', principal: { agent: 'triage' }, virtualServer: 'closers' },
      ],
      {
        virtualServers: {
          triage: { tools: ['github__create_issue', 'jira__*'] },
          closers: { tools: '*__close_*' },
        },
      },
    );
    expect(policy.decide(subject(triage, 'github', 'create_issue')).rule).toBe('triage-kit');
    expect(policy.decide(subject(triage, 'github', 'create_issue')).allowed).toBe(true);
    expect(policy.decide(subject(triage, 'jira', 'search')).allowed).toBe(true);
    expect(policy.decide(subject(triage, 'jira', 'close_ticket'))).toMatchObject({
      allowed: false,
      rule: 'triage-no-close',
    });
    expect(policy.decide(subject(triage, 'github', 'delete_repo')).allowed).toBe(false);
    expect(policy.visible(subject(triage, 'github', 'delete_repo'))).toBe(false);
    expect(policy.visible(subject(ana, 'jira', 'search'))).toBe(false);
  });

  it('rejects bad rules with a ConfigError naming the path', () => {
    const bad: [unknown, string][] = [
      [[{}, {}, {}, { servers: 42 }], 'tools.access[3].servers'],
      [[{ tools: '' }], 'tools.access[0].tools'],
      [[{ effect: 'maybe' }], 'tools.access[0].effect'],
      [[{ principal: { group: 'x' } }], 'tools.access[0].principal'],
      [[{ arguments: 'path' }], 'tools.access[0].arguments'],
      [[{ rateLimit: { requests: 0, windowMs: 1000 } }], 'tools.access[0].rateLimit.requests'],
      [[{ effect: 'deny', approval: true }], 'tools.access[0].approval'],
      [[{ virtualServer: 'nope' }], 'tools.access[0].virtualServer'],
      [[{ id: 'a' }, { id: 'a' }], 'tools.access[1].id'],
      [{ servers: 'github' }, 'tools.access'],
    ];
    for (const [rules, path] of bad) {
      let caught: unknown;
      try {
        compileAccess(rules as AccessRule[]);
      } catch (error) {
        caught = error;
      }
      expect(ConfigError.isInstance(caught), path).toBe(true);
      expect((caught as ConfigError).path, JSON.stringify(rules)).toBe(path);
      expect((caught as ConfigError).message).toContain(path);
    }
    expect(() => compileAccess([], { virtualServers: { triage: { tools: [] } } })).toThrow(
      /tools\.virtualServers\.triage\.tools/,
    );
  });

  it('decides the same with 1,000 rules indexed by principal', () => {
    const rules: AccessRule[] = Array.from({ length: 1000 }, (_, index) => ({
      id: `team-${index}`,
      principal: { team: `team-${index}` },
      servers: `server-${index % 10}`,
      tools: index % 2 === 0 ? 'get_*' : '*',
    }));
    rules.push({ id: 'no-admin', effect: 'deny', tools: 'admin_*' });
    const policy = compileAccess(rules);
    expect(policy.decide(subject({ team: 'team-501' }, 'server-1', 'create'))).toMatchObject({ rule: 'team-501' });
    expect(policy.decide(subject({ team: 'team-500' }, 'server-0', 'create')).allowed).toBe(false);
    expect(policy.decide(subject({ team: 'team-500' }, 'server-0', 'get_x')).allowed).toBe(true);
    expect(policy.decide(subject({ team: 'team-501' }, 'server-1', 'admin_x')).rule).toBe('no-admin');
    expect(policy.decide(subject({ team: 'team-501' }, 'server-2', 'create')).allowed).toBe(false);
  });
});
