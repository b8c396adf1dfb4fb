/** A tool as the tools layer (or an MCP server) lists it. */
export interface SourceTool {
  name: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  /** MCP's hint that calling the tool twice does no harm. */
  annotations?: { idempotentHint?: boolean };
}

/** What an MCP `tools/call` answers, reduced to what the runner reads. */
export interface SourceToolResult {
  content?: readonly { type: string; text?: string; [key: string]: unknown }[];
  structuredContent?: unknown;
  isError?: boolean;
}

/**
 * Where an agent's named tools come from: the tools layer (the default, when the gateway has one), or any
 * object of this shape. The runner calls both inside the scope of the calling agent, so the principal's
 * `agent` is set and access rules apply per agent.
 */
export interface ToolSource {
  listTools(): Promise<readonly SourceTool[]>;
  callTool(name: string, args: Record<string, unknown>, options: { callId: string }): Promise<SourceToolResult>;
  /** Whether the source writes its own `execute_tool` spans (the tools layer does). */
  readonly traced?: boolean;
}

type Listing = (options?: { cursor?: string }) => Promise<unknown>;
type Calling = (name: string, args: Record<string, unknown>, options: { callId: string }) => Promise<unknown>;

/** Lists every page: `listTools()` may answer tools, or `{ tools, nextCursor }` (MCP pagination). */
async function listAll(list: Listing): Promise<SourceTool[]> {
  const tools: SourceTool[] = [];
  let cursor: string | undefined;
  do {
    const page = (await list(cursor ? { cursor } : undefined)) as
      | { tools?: SourceTool[]; nextCursor?: string }
      | SourceTool[];
    if (Array.isArray(page)) return page;
    tools.push(...(page?.tools ?? []));
    cursor = page?.nextCursor;
  } while (cursor);
  return tools;
}

/**
 * Adapts the tools layer's API (`gateway.tools`): `listTools({ cursor })` and `callTool(name, args, { callId })`.
 * Undefined when `api` has neither.
 */
export function toolLayerSource(api: unknown): ToolSource | undefined {
  const source = api as { listTools?: Listing; callTool?: Calling } | null | undefined;
  if (typeof source?.listTools !== 'function' || typeof source.callTool !== 'function') return undefined;
  const list = source.listTools.bind(source);
  const call = source.callTool.bind(source);
  return {
    traced: true,
    listTools: () => listAll(list),
    callTool: (name, args, options) => call(name, args, options) as Promise<SourceToolResult>,
  };
}

interface McpClientLike {
  listTools(params?: { cursor?: string }): Promise<{ tools: SourceTool[]; nextCursor?: string }>;
  callTool(params: { name: string; arguments?: Record<string, unknown> }): Promise<unknown>;
}

/**
 * Uses an MCP SDK `Client` directly as the agents' tool source (without the tools layer's access rules);
 * the runner writes the `execute_tool` spans itself.
 */
export function mcpToolSource(client: McpClientLike): ToolSource {
  return {
    traced: false,
    listTools: () => listAll((options) => client.listTools(options)),
    callTool: async (name, args) => (await client.callTool({ name, arguments: args })) as SourceToolResult,
  };
}

/** The text a model receives for a tool-layer result: its text parts, else its structured content. */
export function resultText(result: SourceToolResult): string {
  const parts: string[] = [];
  for (const item of result.content ?? []) parts.push(item.type === 'text' ? (item.text ?? '') : JSON.stringify(item));
  let text = parts.length > 0 ? parts.join('\n') : JSON.stringify(result.structuredContent ?? null);
  if (result.isError) text = `Error: ${text}`;
  return text;
}

/** The text a model receives for a local tool's return value. */
export function valueText(value: unknown): string {
  if (typeof value === 'string') return value;
  return value === undefined ? '' : JSON.stringify(value);
}
