/**
 * Refuses calls to a tool whose definition changed since it was pinned (`ToolChangedError`), until
 * `pins.accept(server, tool)`. A synchronous in-memory check: the hashing happened when the tools were listed.
 */
export function toolPinningMiddleware(pins) {
  return async (context, next) => {
    pins.assertUnchanged(context.server, context.tool);
    return next();
  };
}
