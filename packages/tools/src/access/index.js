import { ConfigError } from '@gatehouse/core';
import { z } from 'zod';
import { compileGlobs } from './glob.js';

const openDecision = Object.freeze({ allowed: true, reason: 'no access rules are configured' });
/** Past this many distinct tools the per-tool index is rebuilt from scratch, so memory stays bounded. */
const maxIndexedTools = 10_000;
const oneOrMany = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
const positiveInteger = z.int().positive();
const ruleSchema = z
  .strictObject({
    id: z.string().min(1).optional(),
    effect: z.enum(['allow', 'deny']).optional(),
    principal: z
      .strictObject({
        team: oneOrMany.optional(),
        user: oneOrMany.optional(),
        agent: oneOrMany.optional(),
        tags: z.array(z.string().min(1)).optional(),
      })
      .optional(),
    servers: oneOrMany.optional(),
    tools: oneOrMany.optional(),
    virtualServer: z.string().min(1).optional(),
    arguments: z
      .custom((value) => typeof value === 'function' || isArgumentSchema(value), {
        message: 'expected a zod schema or a function (arguments, subject) => boolean | string',
      })
      .optional(),
    approval: z.union([z.literal(true), z.strictObject({ timeoutMs: positiveInteger.optional() })]).optional(),
    rateLimit: z
      .strictObject({
        requests: positiveInteger,
        windowMs: positiveInteger,
        per: z.enum(['principal', 'global']).optional(),
      })
      .optional(),
    timeoutMs: positiveInteger.optional(),
  })
  .superRefine((rule, context) => {
    if (rule.effect !== 'deny') return;
    for (const key of ['approval', 'rateLimit', 'timeoutMs']) {
      if (rule[key] !== undefined) {
        context.addIssue({ code: 'custom', path: [key], message: `only allow rules take ${key}; remove it` });
      }
    }
  });
const rulesSchema = z.array(ruleSchema, { message: 'expected an array of access rules' });
const virtualServersSchema = z.record(
  z.string().min(1),
  z.strictObject({ tools: oneOrMany }, { message: "expected { tools: ['server__tool', 'server__*'] }" }),
);
function isArgumentSchema(value) {
  return typeof value === 'object' && value !== null && typeof value.safeParse === 'function';
}
/** `tools.access[3].servers`: indexes in brackets, names after dots. */
function formatPath(prefix, path) {
  let result = prefix;
  for (const segment of path) result += typeof segment === 'number' ? `[${segment}]` : `.${String(segment)}`;
  return result;
}
function validate(schema, value, prefix) {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({
    path: formatPath(prefix, issue.path),
    message: issue.message,
  }));
  throw new ConfigError({
    message: `Invalid access rules: ${problems.map((problem) => `${problem.path}: ${problem.message}`).join('; ')}`,
    path: problems[0]?.path,
  });
}
function list(value) {
  return value === undefined ? undefined : typeof value === 'string' ? [value] : value;
}
function compilePrincipal(match) {
  if (match === undefined) return () => true;
  const checks = [];
  for (const field of ['team', 'user', 'agent']) {
    const values = list(match[field]);
    if (values === undefined) continue;
    if (values.length === 1) {
      const only = values[0];
      checks.push((principal) => principal[field] === only);
    } else {
      const set = new Set(values);
      checks.push((principal) => principal[field] !== undefined && set.has(principal[field]));
    }
  }
  const tags = match.tags;
  if (tags !== undefined && tags.length > 0) {
    checks.push((principal) => {
      const held = principal.tags;
      if (held === undefined) return false;
      for (const tag of tags) if (!held.includes(tag)) return false;
      return true;
    });
  }
  if (checks.length === 0) return () => true;
  if (checks.length === 1) return checks[0];
  return (principal) => {
    for (const check of checks) if (!check(principal)) return false;
    return true;
  };
}
function formatArgumentPath(path) {
  if (path.length === 0) return 'arguments';
  return `argument "${formatPath('', path).replace(/^\./, '')}"`;
}
function compileCheck(constraint, deny, id) {
  if (constraint === undefined) return undefined;
  if (typeof constraint === 'function') {
    return (args, subject) => {
      let verdict;
      try {
        verdict = constraint(args, subject);
      } catch (error) {
        // A broken check must fail closed: an allow rule does not allow, a deny rule denies.
        return `the argument check of rule "${id}" threw: ${error instanceof Error ? error.message : String(error)}`;
      }
      if (typeof verdict === 'string') return verdict;
      if (deny) return verdict ? `denied by rule "${id}" for these arguments` : undefined;
      return verdict ? undefined : `the arguments do not satisfy rule "${id}"`;
    };
  }
  return (args) => {
    const result = constraint.safeParse(args);
    if (deny) return result.success ? `denied by rule "${id}" for these arguments` : undefined;
    if (result.success) return undefined;
    const issue = result.error?.issues[0];
    if (issue === undefined) return `the arguments do not satisfy rule "${id}"`;
    return `${formatArgumentPath(issue.path)}: ${issue.message}`;
  };
}
/** Describes who is calling for messages: `team "risk", user "ana"`. No tags (they may be internal). */
export function describePrincipal(principal) {
  const parts = [];
  if (principal.team !== undefined) parts.push(`team "${principal.team}"`);
  if (principal.user !== undefined) parts.push(`user "${principal.user}"`);
  if (principal.agent !== undefined) parts.push(`agent "${principal.agent}"`);
  return parts.length === 0 ? 'an anonymous caller' : parts.join(', ');
}
/**
 * Validates and compiles access rules once: globs become matchers, and rules are indexed per tool and by the
 * principal field they name, so a decision only looks at the few rules that could apply.
 * `undefined` (no rules configured) answers an open policy; an empty list denies everything.
 *
 * @throws ConfigError naming the path of the first bad field, e.g. `tools.access[3].servers`.
 */
export function compileAccess(rules, options = {}) {
  const prefix = options.prefix ?? 'tools';
  const virtualServers = validate(virtualServersSchema, options.virtualServers ?? {}, `${prefix}.virtualServers`);
  if (rules === undefined) {
    return { open: true, decide: () => openDecision, visible: () => true };
  }
  const parsed = validate(rulesSchema, rules, `${prefix}.access`);
  const virtualMatchers = new Map();
  for (const [name, server] of Object.entries(virtualServers)) virtualMatchers.set(name, compileGlobs(server.tools));
  const ids = new Set();
  const compiled = parsed.map((rule, index) => {
    const path = `${prefix}.access[${index}]`;
    const id = rule.id ?? `access[${index}]`;
    if (ids.has(id)) throw new ConfigError({ message: `${path}.id: "${id}" is used by two rules`, path: `${path}.id` });
    ids.add(id);
    let virtual;
    if (rule.virtualServer !== undefined) {
      virtual = virtualMatchers.get(rule.virtualServer);
      if (virtual === undefined) {
        const known = [...virtualMatchers.keys()].join(', ') || 'none configured';
        throw new ConfigError({
          message: `${path}.virtualServer: no virtual server "${rule.virtualServer}" (known: ${known})`,
          path: `${path}.virtualServer`,
        });
      }
    }
    const deny = rule.effect === 'deny';
    const bucketField = ['team', 'user', 'agent'].find((field) => rule.principal?.[field] !== undefined);
    const approval = rule.approval === true ? {} : rule.approval;
    const rateLimit = rule.rateLimit && { per: 'principal', ...rule.rateLimit };
    const decision = Object.freeze(
      deny
        ? { allowed: false, rule: id, reason: `denied by rule "${id}"` }
        : {
            allowed: true,
            rule: id,
            reason: `allowed by rule "${id}"`,
            ...(approval && { approval }),
            ...(rateLimit && { rateLimit }),
            ...(rule.timeoutMs !== undefined && { timeoutMs: rule.timeoutMs }),
          },
    );
    return {
      index,
      id,
      deny,
      principal: compilePrincipal(rule.principal),
      server: compileGlobs(rule.servers),
      tool: compileGlobs(rule.tools),
      virtual,
      check: compileCheck(rule.arguments, deny, id),
      bucket: bucketField && { field: bucketField, values: list(rule.principal[bucketField]) },
      decision,
    };
  });
  const index = new Map();
  let indexed = 0;
  function candidatesFor(server, tool) {
    let byTool = index.get(server);
    const found = byTool?.get(tool);
    if (found !== undefined) return found;
    if (indexed >= maxIndexedTools) {
      index.clear();
      indexed = 0;
      byTool = undefined;
    }
    const namespaced = `${server}__${tool}`;
    let team;
    let user;
    let agent;
    const any = [];
    for (const rule of compiled) {
      if (!rule.server(server) || !rule.tool(tool)) continue;
      if (rule.virtual !== undefined && !rule.virtual(namespaced)) continue;
      if (rule.bucket === undefined) {
        any.push(rule);
        continue;
      }
      let buckets;
      if (rule.bucket.field === 'team') buckets = team ??= new Map();
      else if (rule.bucket.field === 'user') buckets = user ??= new Map();
      else buckets = agent ??= new Map();
      for (const value of rule.bucket.values) {
        const bucket = buckets.get(value);
        if (bucket === undefined) buckets.set(value, [rule]);
        else bucket.push(rule);
      }
    }
    const entry = { team, user, agent, any, empty: !team && !user && !agent && any.length === 0 };
    if (byTool === undefined) index.set(server, (byTool = new Map()));
    byTool.set(tool, entry);
    indexed++;
    return entry;
  }
  function consider(state, rules, subject, args) {
    if (rules === undefined) return;
    const principal = subject.principal;
    for (const rule of rules) {
      // A rule later than the one already found of its kind cannot change the answer: skip it before any check.
      if (rule.deny) {
        if (state.deny !== undefined && state.deny.index < rule.index) continue;
        if (!rule.principal(principal)) continue;
        let reason;
        if (rule.check !== undefined) {
          // At list time (no arguments) a conditional deny rule does not hide the tool.
          if (args === undefined) continue;
          reason = rule.check(args, subject);
          if (reason === undefined) continue;
        }
        state.deny = rule;
        state.denyReason = reason;
      } else {
        if (state.allow !== undefined && state.allow.index < rule.index) continue;
        if (!rule.principal(principal)) continue;
        if (rule.check !== undefined && args !== undefined) {
          const problem = rule.check(args, subject);
          if (problem !== undefined) {
            if (state.failed === undefined || rule.index < state.failed.index) {
              state.failed = rule;
              state.failure = problem;
            }
            continue;
          }
        }
        state.allow = rule;
      }
    }
  }
  // One small object per decision (not shared state) so that an argument check may itself call `decide`.
  function evaluate(subject, args) {
    const state = {
      deny: undefined,
      denyReason: undefined,
      allow: undefined,
      failed: undefined,
      failure: undefined,
    };
    const candidates = candidatesFor(subject.server, subject.tool);
    if (candidates.empty) return state;
    const principal = subject.principal;
    if (candidates.team !== undefined && principal.team !== undefined)
      consider(state, candidates.team.get(principal.team), subject, args);
    if (candidates.user !== undefined && principal.user !== undefined)
      consider(state, candidates.user.get(principal.user), subject, args);
    if (candidates.agent !== undefined && principal.agent !== undefined)
      consider(state, candidates.agent.get(principal.agent), subject, args);
    consider(state, candidates.any, subject, args);
    return state;
  }
  return {
    open: false,
    decide(subject, args) {
      const { deny, denyReason, allow, failed, failure } = evaluate(subject, args ?? {});
      if (deny !== undefined) {
        if (denyReason === undefined) return deny.decision;
        return { allowed: false, rule: deny.id, reason: denyReason };
      }
      if (allow !== undefined) return allow.decision;
      if (failed !== undefined) return { allowed: false, rule: failed.id, reason: failure };
      return {
        allowed: false,
        reason: `no access rule allows ${describePrincipal(subject.principal)} to use ${subject.server}__${subject.tool}`,
      };
    },
    visible(subject) {
      const { deny, allow } = evaluate(subject, undefined);
      return deny === undefined && allow !== undefined;
    },
  };
}
