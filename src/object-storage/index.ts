import type {ObjectStorage, ObjectStorageSettings, PublishRequest, PublishResult} from './types.js'

import {asPrefix, parseObjectUrl} from './url.js'

/**
 * Object storage as mpx lends it to sinks. This module is light: the AWS SDK is imported on the
 * first call, so a fetch that never names an s3:// target never loads it.
 */
export function objectStorage(): ObjectStorage {
  return {
    async hasObjects(url: string, settings: ObjectStorageSettings = {}): Promise<boolean> {
      const {bucket, key} = parseObjectUrl(url)
      const {ObjectStore} = await import('./client.js')
      const store = new ObjectStore(bucket, settings)
      try {
        return await store.any(asPrefix(key))
      } finally {
        store.close()
      }
    },
    async publishDirectory(request: PublishRequest): Promise<PublishResult> {
      const {publishDirectory} = await import('./publish.js')
      return publishDirectory(request)
    },
  }
}
