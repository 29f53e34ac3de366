/**
 * Opens a segment file for either backend: a new (empty) file is pre-allocated to its full size
 * (fallocate, or ftruncate without the addon); an existing one must already have exactly that
 * size. The caller owns the returned descriptor.
 */
import { closeSync, constants, fstatSync, ftruncateSync, openSync } from 'node:fs';
import { SluiceError } from '../../common/errors.js';
import * as native from './native.js';

export function openSegmentFd(path: string, sizeBytes: number, create: boolean): number {
  const fd = openSync(path, create ? constants.O_RDWR | constants.O_CREAT : constants.O_RDWR);
  try {
    const size = fstatSync(fd).size;
    if (size === 0 && create) {
      if (native.nativeAvailable) native.fallocate(fd, 0, sizeBytes);
      else ftruncateSync(fd, sizeBytes);
    } else if (size !== sizeBytes) {
      throw new SluiceError(
        'STORE_CORRUPT',
        `segment ${path} is ${size} bytes, expected ${sizeBytes}: restore it or fix ` +
          'commitLogSegmentSizeBytes to match the files on disk',
      );
    }
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}
