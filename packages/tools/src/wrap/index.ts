import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ToolsLayer } from '../layer/index.js';

/** Whether `value` looks like an MCP SDK `Client` (by its methods, so a duplicated SDK install still counts). */
export function isMcpClient(value: object): boolean {
  const client = value as Partial<Client>;
  return (
    typeof client.callTool === 'function' &&
    typeof client.listTools === 'function' &&
    typeof client.getServerCapabilities === 'function'
  );
}

/**
 * `gateway.wrap(client)`: the same `Client`, whose `callTool` runs through the layer's chain and whose `listTools`
 * shows only what the current principal may call. Tool names stay the server's own. The server's name for rules is
 * its key in `tools({ servers })` when the client is configured there, else the name it announces.
 */
export function wrapClient(layer: ToolsLayer, client: Client): Client {
  const configured = layer.options.servers.find(
    (server) => server.definition.kind === 'client' && server.definition.client === client,
  );
  let name = configured?.name;
  const serverName = () => {
    name ??= client.getServerVersion()?.name;
    return name ?? 'client';
  };
  const definitions = new Map<string, Tool>();

  const callTool: Client['callTool'] = (params, resultSchema, options) =>
    layer.run(
      serverName(),
      params.name,
      params.name,
      definitions.get(params.name),
      params.arguments ?? {},
      { signal: options?.signal },
      {
        connection: undefined,
        downstream: undefined,
        direct: (context) =>
          client.callTool({ ...params, name: context.tool, arguments: context.arguments }, resultSchema, {
            ...options,
            signal: context.signal,
          }) as Promise<CallToolResult>,
      },
    ) as ReturnType<Client['callTool']>;

  const listTools: Client['listTools'] = async (params, options) => {
    const result = await client.listTools(params, options);
    const principal = layer.runtime.scope().principal;
    const server = serverName();
    await layer.pins.observe(server, result.tools, principal);
    for (const tool of result.tools) definitions.set(tool.name, tool);
    const { policy, pins } = layer;
    return {
      ...result,
      tools: result.tools.filter(
        (tool) =>
          pins.check(server, tool.name) !== 'changed' &&
          (policy.open || policy.visible({ principal, server, tool: tool.name })),
      ),
    };
  };

  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(client, {
    get(target, property) {
      if (property === 'callTool') return callTool;
      if (property === 'listTools') return listTools;
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      let method = bound.get(property);
      if (method === undefined) bound.set(property, (method = value.bind(target)));
      return method;
    },
  });
}
