/** Helpers for unit-testing tool middleware and policies in vitest (`@gatehouse/tools/testing`). */
export { type ToolCallContextOptions, toolCallContext } from '../middleware/call-context.js';
export { connectInMemory } from './connect.js';
