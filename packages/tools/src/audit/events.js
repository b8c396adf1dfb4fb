/**
 * Emits one of these events, typed by `ToolPolicyEvents`. Goes through a loosely typed view of the bus because
 * TypeScript merges `declare module '@gatehouse/core'` augmentations into core's named re-export rather than
 * into `GatehouseEventMap` itself, so `EventName` does not list them yet (reported to core).
 */
export function emitToolEvent(events, type, payload) {
  events.emit(type, payload);
}
/** Whether anyone listens to one of these events (check before building an expensive payload). */
export function hasToolEventListeners(events, type) {
  return events.has(type);
}
