import { type ModelRequest, type ModelStreamResult, pull, relaying, stopUnlessOver } from '../context/index.js';

/**
 * OpenAI chat streams report usage only when asked (`stream_options.include_usage`). Asks for it when the
 * caller did not, and answers whether the caller must be spared what that adds (see `watchStream`).
 */
export function requestStreamUsage(request: ModelRequest): boolean {
  if (request.api !== 'chat' || !request.stream) return false;
  const streamOptions = request.body.stream_options;
  if (streamOptions?.include_usage === true) return false;
  request.body = { ...request.body, stream_options: { ...streamOptions, include_usage: true } };
  return true;
}

/**
 * Passes a stream's chunks on and calls `done` once when it ends (`completed` true), fails or is stopped early.
 * With `hideUsage`, the usage asked for by `requestStreamUsage` never reaches the caller: the last chunk with no
 * choices is dropped and the `usage: null` of the others removed, so the stream is exactly the one the caller
 * asked for.
 */
export function watchStream(
  result: ModelStreamResult,
  hideUsage: boolean,
  done: (completed: boolean) => void,
): ModelStreamResult {
  const source = result.chunks;
  return {
    ...result,
    chunks: { [Symbol.asyncIterator]: () => watch(source[Symbol.asyncIterator](), hideUsage, done) },
  };
}

async function* watch(
  iterator: AsyncIterator<any>,
  hideUsage: boolean,
  done: (completed: boolean) => void,
): AsyncGenerator<any> {
  const source = relaying(iterator);
  let reported = false;
  try {
    while (true) {
      const step = await pull(source);
      if (step.done) break;
      const chunk = step.value;
      if (hideUsage && chunk !== null && typeof chunk === 'object' && 'usage' in chunk) {
        if (chunk.usage === null) delete chunk.usage;
        else if (Array.isArray(chunk.choices) && chunk.choices.length === 0) continue;
      }
      yield chunk;
    }
    reported = true;
    done(true);
  } finally {
    if (!reported) done(false);
    await stopUnlessOver(source);
  }
}
