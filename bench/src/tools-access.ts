import { compose, MemoryStore, type Principal } from '@gatehouse/core';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { type AccessRule, compileAccess } from '../../packages/tools/src/access/index.js';
import { toolCallContext } from '../../packages/tools/src/middleware/call-context.js';
import { toolAccessMiddleware } from '../../packages/tools/src/middleware/tool-access-middleware.js';
import { toolAuditMiddleware } from '../../packages/tools/src/middleware/tool-audit-middleware.js';
import { toolPinningMiddleware } from '../../packages/tools/src/middleware/tool-pinning-middleware.js';
import { toolRateLimitMiddleware } from '../../packages/tools/src/middleware/tool-rate-limit-middleware.js';
import { toolTimeoutMiddleware } from '../../packages/tools/src/middleware/tool-timeout-middleware.js';
import { ToolPins } from '../../packages/tools/src/pinning/index.js';
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
  // The policy chain around a handler that answers at once (no network): what the policy adds to each call.
  const answer: CallToolResult = { content: [{ type: 'text', text: 'ok' }] };
  const handler = async () => answer;
  const chain = compose(
    [
      toolAuditMiddleware(),
      toolAccessMiddleware(policy),
      toolPinningMiddleware(new ToolPins({ store: new MemoryStore() })),
      toolRateLimitMiddleware(),
      toolTimeoutMiddleware(),
    ],
    handler,
  );
  const context = toolCallContext({ server: 'server-1', tool: 'get_issue', principal: allowed });
  return [
    await measure('access: open policy (no rules)', () => open.decide(read)),
    await measure('access: 1,000 rules, allowed', () => policy.decide(read, {})),
    await measure('access: 1,000 rules, denied by default', () => policy.decide(denied, {})),
    await measure('access: 1,000 rules, argument predicate', () => policy.decide(file, args)),
    await measure('access: 1,000 rules, visible (list time)', () => policy.visible(read)),
    await measure('tool call: handler alone (baseline)', () => handler()),
    await measure('tool call: audit + access + pinning + rate limit + timeout', () => chain(context)),
  ];
}
