/**
 * Typed wrapper around the `sluice_mmap` native addon (native/sluice_mmap.c).
 *
 * The addon is built by node-gyp at install time into `build/Release/sluice_mmap.node` at the
 * package root. When it is missing (no compiler, unsupported platform) `nativeAvailable` is
 * false and every function throws a `NATIVE_IO` SluiceError; the store then has to use the
 * `file` backend.
 */
import { createRequire } from 'node:module';
import { existsSync, fstatSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { SluiceError } from '../../common/errors.js';

/** Advice values accepted by {@link madvise}. */
export type MadviseAdvice = 'willneed' | 'sequential' | 'dontneed' | 'random' | 'normal';

/** Anything the addon accepts as a memory view. */
export type MemoryView = ArrayBuffer | ArrayBufferView;

/** An Error thrown by the addon for a failed system call (same shape as Node's fs errors). */
export interface NativeIoError extends Error {
  /** Symbolic errno, e.g. `ENOMEM`. */
  code: string;
  /** Negative errno number, as in Node. */
  errno: number;
  /** The failing system call, e.g. `mmap`. */
  syscall: string;
}

interface Binding {
  map(fd: number, length: number, offset: number): ArrayBuffer;
  unmap(view: MemoryView): boolean;
  msync(view: MemoryView, offset: number, length: number, sync: boolean): void;
  msyncAsync(view: MemoryView, offset: number, length: number): Promise<void>;
  syncfsAsync(fd: number): Promise<void>;
  touchAsync(view: MemoryView, offset: number, length: number): Promise<void>;
  prefaultReadAsync(view: MemoryView, offset: number, length: number): Promise<void>;
  madvise(view: MemoryView, offset: number, length: number, advice: MadviseAdvice): void;
  mlock(view: MemoryView, offset: number, length: number): void;
  munlock(view: MemoryView, offset: number, length: number): void;
  fallocate(fd: number, offset: number, length: number): void;
  fallocateAsync(fd: number, offset: number, length: number): Promise<void>;
  crc32(bytes: MemoryView): number;
  mallocRetain(trimThresholdBytes: number, mmapThresholdBytes: number): boolean;
  PAGE_SIZE: number;
}

/** Walks up from this module to the folder holding package.json (works from src/ and dist/). */
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'binding.gyp'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return dirname(fileURLToPath(import.meta.url));
}

let binding: Binding | null = null;
let loadError: unknown = null;
try {
  const require = createRequire(import.meta.url);
  binding = require(join(findPackageRoot(), 'build', 'Release', 'sluice_mmap.node')) as Binding;
} catch (err) {
  loadError = err;
}

/** True when the native addon loaded; the `mmap` backend needs it. */
export const nativeAvailable: boolean = binding !== null;

/** The OS page size (4096 when the addon is missing). */
export const PAGE_SIZE: number = binding?.PAGE_SIZE ?? 4096;

function b(): Binding {
  if (binding === null) {
    throw new SluiceError(
      'NATIVE_IO',
      'the sluice_mmap native addon is not built: run `npm rebuild` (needs a C compiler and ' +
        'node headers) or set the store backend to "file"',
      { cause: loadError },
    );
  }
  return binding;
}

/** Maps `length` bytes of `fd` at `offset` shared read/write; returns an external ArrayBuffer. */
export function map(fd: number, length: number, offset: number): ArrayBuffer {
  return b().map(fd, length, offset);
}

/**
 * Detaches the ArrayBuffer (every view of it then has length 0) and munmaps it at once.
 * Returns false when it was already unmapped (idempotent).
 */
export function unmap(buffer: ArrayBuffer): boolean {
  return b().unmap(buffer);
}

/** msync of `[offset, offset+length)` of the view; MS_SYNC when `sync`, else MS_ASYNC. */
export function msync(view: MemoryView, offset: number, length: number, sync: boolean): void {
  b().msync(view, offset, length, sync);
}

/**
 * syncfs(2) of the file system holding `fd`, on the libuv thread pool: every dirty page and the
 * journal of that file system become durable in one call. Keep `fd` open until it settles.
 */
export function syncfsAsync(fd: number): Promise<void> {
  return b().syncfsAsync(fd);
}

/** MS_SYNC msync on the libuv thread pool; keeps the view alive until it settles. */
export function msyncAsync(view: MemoryView, offset: number, length: number): Promise<void> {
  return b().msyncAsync(view, offset, length);
}

/**
 * Pre-faults every page of the range for reading on the libuv thread pool (MADV_POPULATE_READ,
 * or a load per page on older kernels): the file's pages come into the page cache and are
 * mapped, but stay clean, so the kernel has nothing to write back; the first store to each page
 * still takes a write-protect fault. Keeps the view alive until it settles.
 */
export function prefaultReadAsync(view: MemoryView, offset: number, length: number): Promise<void> {
  return b().prefaultReadAsync(view, offset, length);
}

/**
 * Stores into every page of the range from user space on the libuv thread pool (an atomic OR
 * of 0 into one word per page; the data is unchanged): the pages become writable (and, in a
 * file mapping, dirty). On this kind of VM a page that only the kernel faulted in
 * (MADV_POPULATE_WRITE) still costs the next user-space store ~10 µs; one another thread has
 * stored into does not. Keeps the view alive until it settles.
 */
export function touchAsync(view: MemoryView, offset: number, length: number): Promise<void> {
  return b().touchAsync(view, offset, length);
}

/** madvise over a range of the view. */
export function madvise(
  view: MemoryView,
  offset: number,
  length: number,
  advice: MadviseAdvice,
): void {
  b().madvise(view, offset, length, advice);
}

/** mlock a range (subject to RLIMIT_MEMLOCK for non-root users). */
export function mlock(view: MemoryView, offset: number, length: number): void {
  b().mlock(view, offset, length);
}

/** munlock a range. */
export function munlock(view: MemoryView, offset: number, length: number): void {
  b().munlock(view, offset, length);
}

/** Allocates disk blocks for `[offset, offset+length)` of `fd` (file grows if needed). */
export function fallocate(fd: number, offset: number, length: number): void {
  b().fallocate(fd, offset, length);
}

/**
 * Allocates the blocks of `[0, sizeBytes)` of `fd` unless the file has that many already: a
 * store into an unallocated page of a shared mapping on a full disk is a SIGBUS, where fallocate
 * reports ENOSPC. Pass `blocks` (fstat's 512-byte block count) when it is at hand.
 */
export function allocateIfSparse(
  fd: number,
  sizeBytes: number,
  blocks: number = fstatSync(fd).blocks,
): void {
  if (blocks * 512 < sizeBytes) fallocate(fd, 0, sizeBytes);
}

/**
 * {@link fallocate} on the libuv thread pool (it can wait for the file system's journal under
 * write-back load). Keep `fd` open until the promise settles.
 */
export function fallocateAsync(fd: number, offset: number, length: number): Promise<void> {
  return b().fallocateAsync(fd, offset, length);
}

/**
 * IEEE CRC-32 of `bytes`, identical to `zlib.crc32` but with PCLMULQDQ on x86-64 (about 2.5×
 * faster for 1 KiB). Use {@link bodyCrcFast} for the record's BODYCRC field.
 */
export function crc32(bytes: MemoryView): number {
  return b().crc32(bytes);
}

const zlibBodyCrc = (body: Uint8Array): number => zlibCrc32(body) & 0x7fffffff;
const nativeBodyCrc = (body: Uint8Array): number => (binding as Binding).crc32(body) & 0x7fffffff;

/** BODYCRC of a record (crc32 & 0x7FFFFFFF): native when the addon is built, else zlib. */
export const bodyCrcFast: (body: Uint8Array) => number =
  binding !== null ? nativeBodyCrc : zlibBodyCrc;

/**
 * The mmap threshold set by {@link retainMallocMemory}: requests above it get a mapping of their
 * own. 32 MiB is the top of the range in which glibc moves the threshold itself on 64-bit.
 */
const MALLOC_MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024;

/** {@link retainMallocMemory} takes byte counts below this (glibc's mallopt takes an `int`). */
export const MALLOC_RETAIN_LIMIT_BYTES = 2 ** 31;

/**
 * Lets malloc (glibc) keep up to `retainBytes` of freed memory in the process instead of giving
 * it back to the kernel: the heap is trimmed only when that much is free at its top, and every
 * request up to 32 MiB comes from the heap rather than from a mapping of its own that `free`
 * unmaps. By default glibc gives freed memory back soon, and a process that reads and frees
 * large network buffers (1 MiB pull answers, 64 KiB socket reads) takes a page fault for every
 * 4 KiB of them again; on a virtual machine a page fault costs several times what it does on
 * bare metal. Process-wide, and stays until exit.
 * @returns true when applied; false when `retainBytes` is 0, the addon is not built, malloc is
 *   not glibc's, or glibc refused a value (a 32-bit one caps the mmap threshold lower).
 */
export function retainMallocMemory(retainBytes: number): boolean {
  if (
    !Number.isSafeInteger(retainBytes) ||
    retainBytes < 0 ||
    retainBytes >= MALLOC_RETAIN_LIMIT_BYTES
  ) {
    throw new SluiceError(
      'CONFIG_INVALID',
      `malloc retention must be 0 or a byte count below 2 GiB, got ${retainBytes}`,
    );
  }
  if (retainBytes === 0 || binding === null) return false;
  return binding.mallocRetain(retainBytes, MALLOC_MMAP_THRESHOLD_BYTES);
}
