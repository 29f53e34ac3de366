/**
 * Description of the machine a benchmark ran on: CPU, memory, kernel, and the disk under the data
 * folder (from `df` and `lsblk`), plus the versions of the compared servers.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { cpus, loadavg, totalmem, release } from 'node:os';

function run(command: string, args: readonly string[]): string {
  const out = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 });
  if (out.error || out.status !== 0) return '';
  return out.stdout.trim();
}

/** Key facts of the machine, one `name: value` pair per entry. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  /** `df` line of the file system holding the data folder. */
  dataDisk: string;
  /** `lsblk` device list (name, size, rotational, type, mount point). */
  blockDevices: string;
  /** Versions of the external servers. */
  serverVersions: string[];
  /** 1, 5 and 15 minute load averages when the run started (other work on the machine). */
  loadAtStart: string;
}

/** The 1, 5 and 15 minute load averages, formatted. */
export function loadAverages(): string {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(' / ');
}

/** Collects {@link MachineInfo}; `dataRoot` is created if needed so `df` can look at it. */
export function describeMachine(dataRoot: string): MachineInfo {
  mkdirSync(dataRoot, { recursive: true });
  const cpuList = cpus();
  const dfLines = run('df', ['-hT', dataRoot]).split('\n');
  const versions = [
    run('nats-server', ['--version']) || 'nats-server: not installed',
    run('redis-server', ['--version']).split(' sha=')[0] || 'redis-server: not installed',
  ];
  return {
    cpu: cpuList[0]?.model ?? 'unknown',
    cores: cpuList.length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    kernel: `${release()} (${run('uname', ['-m'])})`,
    node: process.version,
    dataDisk: dfLines[dfLines.length - 1]?.replace(/\s+/g, ' ') ?? 'unknown',
    blockDevices:
      run('lsblk', ['-d', '-o', 'NAME,SIZE,ROTA,TYPE,MOUNTPOINT', '-n'])
        .split('\n')
        .map((line) => line.replace(/\s+/g, ' ').trim())
        .filter((line) => line !== '')
        .join('; ') || 'unknown',
    serverVersions: versions,
    loadAtStart: loadAverages(),
  };
}

/** The machine as markdown bullet lines. */
export function machineMarkdown(info: MachineInfo): string[] {
  return [
    `- CPU: ${info.cpu}, ${info.cores} cores; memory ${info.memoryGiB} GiB`,
    `- Kernel: ${info.kernel}; Node.js ${info.node}`,
    `- Data disk (df -hT): \`${info.dataDisk}\``,
    `- Block devices (lsblk, ROTA 0 = not rotational): \`${info.blockDevices}\``,
    `- Servers: ${info.serverVersions.join('; ')}`,
    `- Load average (1 / 5 / 15 min) at start: ${info.loadAtStart}`,
  ];
}
