export {
  type CacheHitEvent,
  type CacheMissEvent,
  type CacheMode,
  type CacheOptions,
  cacheHeader,
  cacheMetadataKey,
  cacheMiddleware,
  type RouteCacheOptions,
} from './cache-middleware.js';
export { defaultIgnoredFields } from './key.js';
