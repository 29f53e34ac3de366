/**
 * Registers the broker and its topic table with every name server (REGISTER_BROKER 103), and
 * unregisters it at shutdown (UNREGISTER_BROKER 104). Name servers are contacted in parallel; one
 * that is down only produces a warning, the others still get the registration.
 */
import type { Logger } from '../common/logger.js';
import {
  encodeBrokerIdentityHeader,
  encodeRegisterBrokerRequestHeader,
} from '../protocol/headers/broker-registration.js';
import { createRequest } from '../protocol/remoting-command.js';
import { RequestCode } from '../protocol/request-code.js';
import { ResponseCode } from '../protocol/response-code.js';
import { encodeRegisterBrokerBody, type TopicConfig } from '../protocol/route-data.js';
import type { RemotingClient } from '../net/remoting-client.js';
import type { TopicConfigTableJson } from './topic-config-manager.js';

/** Who the broker is, and where its topics come from. */
export interface RegistrarOptions {
  /** `host:port` list separated by `;` (empty: no name server). */
  namesrvAddr: string;
  clusterName: string;
  brokerName: string;
  brokerId: number;
  /** The broker's client-facing address (resolved when registering). */
  brokerAddr: () => string;
  /** The topic table to announce. */
  topicTable: () => TopicConfigTableJson;
  timeoutMs?: number;
}

/** Splits `a:1;b:2` into addresses (blank entries dropped). */
export function parseNamesrvAddr(text: string): string[] {
  return text
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

/** Talks to the name servers on the broker's behalf. */
export class NameServerRegistrar {
  private readonly client: RemotingClient;
  private readonly options: RegistrarOptions;
  private readonly log: Logger;
  private readonly addresses: string[];
  private inFlight: Promise<void> | undefined;
  private again = false;

  constructor(client: RemotingClient, options: RegistrarOptions, log: Logger) {
    this.client = client;
    this.options = options;
    this.log = log;
    this.addresses = parseNamesrvAddr(options.namesrvAddr);
  }

  /** The name servers this broker reports to. */
  get nameServers(): readonly string[] {
    return this.addresses;
  }

  /**
   * Registers with every name server. Calls made while a registration is running are merged into
   * one more round after it. Never rejects.
   */
  registerAll(): Promise<void> {
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    const round = async (): Promise<void> => {
      do {
        this.again = false;
        await Promise.all(this.addresses.map((addr) => this.registerOne(addr)));
      } while (this.again);
    };
    this.inFlight = round().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async registerOne(address: string): Promise<void> {
    const o = this.options;
    const table = o.topicTable();
    const topicConfigTable: Record<string, TopicConfig> = table.topicConfigTable;
    const request = createRequest(RequestCode.REGISTER_BROKER, {
      extFields: encodeRegisterBrokerRequestHeader({
        brokerName: o.brokerName,
        brokerAddr: o.brokerAddr(),
        clusterName: o.clusterName,
        brokerId: o.brokerId,
        haServerAddr: '',
        compressed: false,
        bodyCrc32: 0,
      }),
      body: encodeRegisterBrokerBody({
        topicConfigSerializeWrapper: { topicConfigTable, dataVersion: table.dataVersion },
        filterServerList: [],
      }),
    });
    try {
      const response = await this.client.invoke(address, request, o.timeoutMs ?? 3_000);
      if (response.code !== ResponseCode.SUCCESS) {
        this.log.warn(
          `name server ${address} refused the registration: code ${response.code} ${response.remark ?? ''}`,
        );
      }
    } catch (error) {
      this.log.warn(`cannot register with name server ${address}: ${(error as Error).message}`);
    }
  }

  /** Unregisters from every name server (best effort, never rejects). */
  async unregisterAll(): Promise<void> {
    const o = this.options;
    await Promise.all(
      this.addresses.map(async (address) => {
        const request = createRequest(RequestCode.UNREGISTER_BROKER, {
          extFields: encodeBrokerIdentityHeader({
            brokerName: o.brokerName,
            brokerAddr: o.brokerAddr(),
            clusterName: o.clusterName,
            brokerId: o.brokerId,
          }),
        });
        try {
          await this.client.invoke(address, request, o.timeoutMs ?? 3_000);
        } catch (error) {
          this.log.warn(
            `cannot unregister from name server ${address}: ${(error as Error).message}`,
          );
        }
      }),
    );
  }
}
