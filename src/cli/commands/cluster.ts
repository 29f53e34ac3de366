/**
 * `sluice cluster list` and `sluice broker status`.
 */
import type { Command } from 'commander';
import { MQClientError } from '../../client/errors.js';
import {
  operatorCommand,
  out,
  printFields,
  printJson,
  printTable,
  withAdmin,
  type CommonFlags,
} from './admin-common.js';

interface StatusFlags extends CommonFlags {
  broker?: string;
}

/** Registers `cluster list` and `broker status` (under the existing `broker` command's parent). */
export function registerClusterCommands(program: Command): void {
  const cluster = program.command('cluster').description('clusters and brokers');
  operatorCommand(
    cluster.command('list').description('clusters, their brokers and key figures'),
    'sluice cluster list --namesrv 127.0.0.1:9876',
  ).action(async (flags: CommonFlags) => {
    const rows = await withAdmin(flags.namesrv, async (admin) => {
      const info = await admin.clusterInfo();
      const result = [];
      for (const b of Object.values(info.brokerAddrTable)) {
        for (const [id, addr] of Object.entries(b.brokerAddrs)) {
          const rt = await admin
            .brokerRuntimeInfo(addr)
            .catch((e: Error) => ({ error: e.message }) as Record<string, string>);
          result.push({
            cluster: b.cluster,
            brokerName: b.brokerName,
            brokerId: Number(id),
            addr,
            version: rt.brokerVersionDesc ?? '-',
            messagesPut: Number(rt.msgPutTotalTodayNow ?? 0),
            commitLogMaxOffset: Number(rt.commitLogMaxOffset ?? 0),
            diskRatio: Number(rt.commitLogDiskRatio ?? 0),
            error: rt.error,
          });
        }
      }
      return result;
    });
    if (flags.json) {
      printJson(rows);
      return;
    }
    printTable(
      ['CLUSTER', 'BROKER', 'ID', 'ADDRESS', 'VERSION', 'MSGS PUT', 'LOG MAX OFFSET', 'DISK %'],
      rows.map((r) => [
        r.cluster,
        r.brokerName,
        r.brokerId,
        r.addr,
        r.error ? `unreachable: ${r.error}` : r.version,
        r.messagesPut,
        r.commitLogMaxOffset,
        (r.diskRatio * 100).toFixed(1),
      ]),
    );
  });
}

/** Adds `status` to the existing `broker` command (which, without a subcommand, runs a broker). */
export function registerBrokerStatusCommand(brokerCommand: Command): void {
  operatorCommand(
    brokerCommand
      .command('status')
      .description("a broker's runtime figures (GET_BROKER_RUNTIME_INFO)")
      .option(
        '-b, --broker <addr>',
        'broker address (default: every broker the name server knows)',
      ),
    'sluice broker status --broker 127.0.0.1:10911',
  ).action(async (flags: StatusFlags) => {
    const tables = await withAdmin(flags.namesrv, async (admin) => {
      let addrs: string[];
      if (flags.broker) addrs = [flags.broker];
      else {
        const info = await admin.clusterInfo();
        addrs = Object.values(info.brokerAddrTable).flatMap((b) => Object.values(b.brokerAddrs));
      }
      if (addrs.length === 0) {
        throw new MQClientError('NO_ROUTE', 'no broker is registered with the name server');
      }
      const result: Record<string, Record<string, string>> = {};
      for (const addr of addrs) result[addr] = await admin.brokerRuntimeInfo(addr);
      return result;
    });
    if (flags.json) {
      printJson(flags.broker ? tables[flags.broker] : tables);
      return;
    }
    for (const [addr, table] of Object.entries(tables)) {
      out(`broker ${addr}`);
      printFields(table);
    }
  });
}
