/**
 * Opens a segment file for either backend: a new (empty) file is pre-allocated to its full size
 * (fallocate, or ftruncate without the addon) — or, with `reserveLater`, only sized (ftruncate)
 * and left for the caller to fallocate off the event loop; an existing one must already have
 * exactly that size. The caller owns the returned descriptor.
 */
import { closeSync, constants, fstatSync, ftruncateSync, openSync } from 'node:fs';
import { SluiceError } from '../../common/errors.js';
import * as native from './native.js';

export function openSegmentFd(
  path: string,
  sizeBytes: number,
  create: boolean,
  reserveLater = false,
): number {
  const fd = openSync(path, create ? constants.O_RDWR | constants.O_CREAT : constants.O_RDWR);
  try {
    const stat = fstatSync(fd);
    const size = stat.size;
    if (size === 0 && create) {
      if (native.nativeAvailable && !reserveLater) native.fallocate(fd, 0, sizeBytes);
      else ftruncateSync(fd, sizeBytes);
    } else if (size !== sizeBytes) {
      throw new SluiceError(
        'STORE_CORRUPT',
        `segment ${path} is ${size} bytes, expected ${sizeBytes}: restore it or fix ` +
          'commitLogSegmentSizeBytes to match the files on disk',
      );
    } else if (native.nativeAvailable && !reserveLater) {
      // Sized but not allocated: a process stopped between sizing it and allocating its blocks
      // off the event loop (see allocate.ts). Allocate now, before anything maps it for writes.
      native.allocateIfSparse(fd, sizeBytes, stat.blocks);
    }
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}
