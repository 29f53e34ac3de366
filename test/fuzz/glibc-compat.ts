/**
 * Makes Jazzer.js's prebuilt libFuzzer addon loadable on an older glibc.
 *
 * The `@jazzer.js/fuzzer` 4.x prebuild for linux-x64 was linked against glibc 2.38 / libstdc++
 * 13 and asks for symbol versions an older system lacks (Debian 12 ships glibc 2.36 and
 * libstdc++ 12): `__isoc23_strtol@GLIBC_2.38`, `__isoc23_strtoul@GLIBC_2.38` and
 * `std::ios_base_library_init()@GLIBCXX_3.4.32`. `dlopen` then fails before any fuzzing starts.
 *
 * When that happens we write a patched copy of the addon into a temp folder (node_modules is
 * never touched) and redirect `process.dlopen` to it:
 *
 * | what                                      | patch                                            |
 * |-------------------------------------------|--------------------------------------------------|
 * | version needs the system lacks (vernaux)  | flag `VER_FLG_WEAK`: a missing version is no error |
 * | `__isoc23_strtol`, `__isoc23_strtoul`     | renamed in `.dynstr` to `strtol`, `strtoul` and made unversioned (same functions except C23's `0b` prefix) |
 * | other symbols of a missing version        | made unversioned and `STB_WEAK` (only referenced, never called: `ios_base_library_init` is a link-order marker) |
 *
 * The ELF64 structures read here (little-endian, x86-64):
 *
 * | structure     | field (offset, size)                                                         |
 * |---------------|------------------------------------------------------------------------------|
 * | ELF header    | e_shoff (0x28, 8), e_shentsize (0x3a, 2), e_shnum (0x3c, 2)                  |
 * | section hdr   | sh_type (4, 4), sh_offset (24, 8), sh_size (32, 8), sh_link (40, 4), sh_entsize (56, 8) |
 * | Elf64_Sym     | st_name (0, 4), st_info (4, 1); 24 bytes                                      |
 * | versym        | uint16 per dynamic symbol; low 15 bits = version index                        |
 * | Elf64_Verneed | vn_cnt (2, 2), vn_file (4, 4), vn_aux (8, 4), vn_next (12, 4)                 |
 * | Elf64_Vernaux | vna_flags (4, 2), vna_other (6, 2), vna_name (8, 4), vna_next (12, 4)         |
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const SHT_DYNSYM = 11;
const SHT_GNU_VERSYM = 0x6fffffff;
const SHT_GNU_VERNEED = 0x6ffffffe;
const VER_FLG_WEAK = 0x2;
const STB_WEAK = 2;
const SYM_BYTES = 24;
const ADDON_SUFFIX = join('@jazzer.js', 'fuzzer', 'prebuilds', 'fuzzer-linux-x64.node');
const LIB_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib64', '/usr/lib64'];

interface Section {
  type: number;
  offset: number;
  size: number;
  link: number;
}

function sections(elf: Buffer): Section[] {
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const out: Section[] = [];
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * shentsize;
    out.push({
      type: elf.readUInt32LE(at + 4),
      offset: Number(elf.readBigUInt64LE(at + 24)),
      size: Number(elf.readBigUInt64LE(at + 32)),
      link: elf.readUInt32LE(at + 40),
    });
  }
  return out;
}

function cString(elf: Buffer, at: number): string {
  const end = elf.indexOf(0, at);
  return elf.toString('latin1', at, end);
}

/** True when a system copy of `file` defines the symbol version `version`. */
function systemHasVersion(file: string, version: string): boolean {
  const needle = Buffer.from(`${version}\0`, 'latin1');
  for (const dir of LIB_DIRS) {
    const path = join(dir, file);
    if (existsSync(path) && readFileSync(path).includes(needle)) return true;
  }
  return false;
}

/**
 * Returns a copy of the ELF `elf` with the version needs the system lacks made weak and their
 * symbols rebound as described in the module comment, or `undefined` when nothing is missing.
 */
export function patchMissingVersions(elf: Buffer): Buffer | undefined {
  const out = Buffer.from(elf);
  const all = sections(out);
  const dynsym = all.find((s) => s.type === SHT_DYNSYM);
  const versym = all.find((s) => s.type === SHT_GNU_VERSYM);
  const verneed = all.find((s) => s.type === SHT_GNU_VERNEED);
  if (!dynsym || !versym || !verneed) return undefined;
  const dynstr = all[verneed.link]!;
  const missing = new Set<number>();
  let need = verneed.offset;
  while (true) {
    const count = out.readUInt16LE(need + 2);
    const file = cString(out, dynstr.offset + out.readUInt32LE(need + 4));
    let aux = need + out.readUInt32LE(need + 8);
    for (let i = 0; i < count; i++) {
      const name = cString(out, dynstr.offset + out.readUInt32LE(aux + 8));
      if (!systemHasVersion(file, name)) {
        out.writeUInt16LE(out.readUInt16LE(aux + 4) | VER_FLG_WEAK, aux + 4);
        missing.add(out.readUInt16LE(aux + 6));
      }
      aux += out.readUInt32LE(aux + 12);
    }
    const next = out.readUInt32LE(need + 12);
    if (next === 0) break;
    need += next;
  }
  if (missing.size === 0) return undefined;
  const symbols = dynsym.size / SYM_BYTES;
  for (let i = 0; i < symbols; i++) {
    const versionAt = versym.offset + i * 2;
    if (!missing.has(out.readUInt16LE(versionAt) & 0x7fff)) continue;
    const symAt = dynsym.offset + i * SYM_BYTES;
    const nameAt = dynstr.offset + out.readUInt32LE(symAt);
    const name = cString(out, nameAt);
    out.writeUInt16LE(1, versionAt); // VER_NDX_GLOBAL: bind to any unversioned/default definition
    if (name.startsWith('__isoc23_')) {
      out.write(`${name.slice('__isoc23_'.length)}\0`, nameAt, 'latin1');
    } else {
      out[symAt + 4] = (STB_WEAK << 4) | (out[symAt + 4]! & 0xf);
    }
  }
  return out;
}

/**
 * If the Jazzer.js fuzzer addon asks for glibc / libstdc++ symbol versions this system lacks,
 * writes a patched copy under the OS temp folder and redirects
 * `process.dlopen` for that file to it. Call before `@jazzer.js/core` is loaded.
 * @returns a line describing what was done, for logs.
 */
export function installJazzerAddonCompat(): string {
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'no addon patch needed';
  const require = createRequire(import.meta.url);
  const fuzzerMain = require.resolve('@jazzer.js/fuzzer');
  const addonPath = join(dirname(fuzzerMain), '..', 'prebuilds', 'fuzzer-linux-x64.node');
  if (!existsSync(addonPath)) return 'no prebuilt addon found';
  const original = readFileSync(addonPath);
  const patched = patchMissingVersions(original);
  if (!patched) return 'prebuilt addon matches this system';
  const digest = createHash('sha256').update(original).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `sluice-jazzer-addon-${digest}`);
  const target = join(dir, 'fuzzer-linux-x64.node');
  if (!existsSync(target)) {
    mkdirSync(dir, { recursive: true });
    const temp = `${target}.${process.pid}`;
    writeFileSync(temp, patched);
    renameSync(temp, target);
  }
  const dlopen = process.dlopen.bind(process);
  process.dlopen = ((module: { exports: unknown }, filename: string, flags?: number) => {
    const file = filename.endsWith(ADDON_SUFFIX) ? target : filename;
    return flags === undefined ? dlopen(module, file) : dlopen(module, file, flags);
  }) as typeof process.dlopen;
  return `patched prebuilt addon for this glibc: ${target}`;
}
