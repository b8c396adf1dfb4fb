import type { Principal } from '@gatehouse/core';
import { type AccessRule, compileAccess } from '../../packages/tools/src/access/index.js';
import { measure, type Sample } from './measure.js';

/**
 * The access decision with 1,000 rules (target: at most 2 µs p50). Rules are spread over 100 teams, 20 users and
 * 50 agents, 10 servers and tool globs, with deny rules and argument constraints among them, as a large
 * organisation's policy would be.
 */
export async function toolsAccessBench(): Promise<Sample[]> {
  const rules: AccessRule[] = [];
  for (let index = 0; index < 1000; index++) {
    const kind = index % 10;
    if (kind === 0)
      rules.push({ id: `deny-${index}`, effect: 'deny', servers: `server-${index % 7}`, tools: `admin_${index}_*` });
    else if (kind < 6)
      rules.push({
        principal: { team: `team-${index % 100}` },
        servers: `server-${index % 10}`,
        tools: ['get_*', 'list_*'],
      });
    else if (kind < 8)
      rules.push({ principal: { user: `user-${index % 20}` }, servers: `server-${index % 10}`, tools: '*' });
    else if (kind === 8)
      rules.push({ principal: { agent: `agent-${index % 50}` }, tools: [`tool_${index}`, 'search_*'] });
    else
      rules.push({
        principal: { tags: ['staff'] },
        servers: 'files',
        tools: 'read_file',
        arguments: (args) => typeof args.path === 'string' && args.path.startsWith('/data/public/'),
      });
  }
  const policy = compileAccess(rules);
  const allowed: Principal = { team: 'team-11', user: 'user-3', tags: ['staff'] };
  const stranger: Principal = { team: 'nobody' };
  const read = { principal: allowed, server: 'server-1', tool: 'get_issue' };
  const denied = { principal: stranger, server: 'server-3', tool: 'create_issue' };
  const file = { principal: allowed, server: 'files', tool: 'read_file' };
  const args = { path: '/data/public/report.txt' };
  if (!policy.decide(read).allowed || policy.decide(denied).allowed || !policy.decide(file, args).allowed) {
    throw new Error('tools-access bench: the rules do not decide as intended');
  }
  const open = compileAccess(undefined);
  return [
    await measure('access: open policy (no rules)', () => open.decide(read)),
    await measure('access: 1,000 rules, allowed', () => policy.decide(read, {})),
    await measure('access: 1,000 rules, denied by default', () => policy.decide(denied, {})),
    await measure('access: 1,000 rules, argument predicate', () => policy.decide(file, args)),
    await measure('access: 1,000 rules, visible (list time)', () => policy.visible(read)),
  ];
}
