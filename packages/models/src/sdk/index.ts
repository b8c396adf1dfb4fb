/**
 * The SDKs' own `APIPromise` and `Stream` classes, so that a wrapped call answers the very types the raw
 * client does (`.withResponse()`, `.asResponse()`, `tee()`, `toReadableStream()`, the helpers' internals).
 * Both SDKs are optional peers: each is loaded if installed, from the same module the app's client uses.
 */
type PromiseClass = new (client: any, responsePromise: Promise<any>, parse?: (client: any, props: any) => any) => any;
type StreamClass = new (iterator: () => AsyncIterator<any>, controller: AbortController, client?: any) => any;

export interface SdkClasses {
  APIPromise: PromiseClass;
  Stream: StreamClass;
}

async function load(promiseModule: string, streamModule: string): Promise<SdkClasses | undefined> {
  try {
    const [promise, stream] = await Promise.all([import(promiseModule), import(streamModule)]);
    return { APIPromise: promise.APIPromise, Stream: stream.Stream };
  } catch {
    return undefined;
  }
}

export const openaiClasses = await load('openai/core/api-promise', 'openai/core/streaming');
export const anthropicClasses = await load('@anthropic-ai/sdk/core/api-promise', '@anthropic-ai/sdk/core/streaming');
