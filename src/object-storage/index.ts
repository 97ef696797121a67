import {UsageError} from 'mpx-mixpanel-core/internal/errors.js'

import type {ObjectStore} from './client.js'
import type {ObjectStorage, ObjectStorageSettings, PublishRequest, PublishResult} from './types.js'

import {asPrefix, parseObjectUrl} from './url.js'

/** One request's store (the SDK imported on first use), closed after. */
async function withStore<T>(
  url: string,
  settings: ObjectStorageSettings,
  task: (store: ObjectStore, key: string) => Promise<T>,
): Promise<T> {
  const {bucket, key} = parseObjectUrl(url)
  const {ObjectStore} = await import('./client.js')
  const store = new ObjectStore(bucket, settings)
  try {
    return await task(store, key)
  } finally {
    store.close()
  }
}

/** `s3://bucket/key` of one object (not a directory's prefix). */
function objectKey(url: string): string {
  const {key} = parseObjectUrl(url)
  if (key === '' || key.endsWith('/')) throw new UsageError(`${url} names a directory, not an object`)
  return key
}

/**
 * Object storage as mpx lends it to sinks. This module is light: the AWS SDK is imported on the
 * first call, so a fetch that never names an s3:// target never loads it.
 */
export function objectStorage(): ObjectStorage {
  return {
    async hasObjects(url: string, settings: ObjectStorageSettings = {}): Promise<boolean> {
      return withStore(url, settings, (store, key) => store.any(asPrefix(key)))
    },
    async publishDirectory(request: PublishRequest): Promise<PublishResult> {
      const {publishDirectory} = await import('./publish.js')
      return publishDirectory(request)
    },
    async readObject(url: string, settings: ObjectStorageSettings = {}): Promise<string | undefined> {
      objectKey(url)
      return withStore(url, settings, (store, key) => store.get(key))
    },
    async writeObject(url: string, body: string, settings: ObjectStorageSettings = {}): Promise<void> {
      objectKey(url)
      return withStore(url, settings, (store, key) => store.put(key, body))
    },
  }
}
