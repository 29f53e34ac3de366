/**
 * Registers the broker and its topic table with every name server (REGISTER_BROKER 103), and
 * unregisters it at shutdown (UNREGISTER_BROKER 104). Name servers are contacted in parallel; one
 * that is down only produces a warning, the others still get the registration.
 */
import type { Logger } from '../common/logger.js';
import {
  decodeQueryDataVersionResponseHeader,
  encodeBrokerIdentityHeader,
  encodeRegisterBrokerRequestHeader,
} from '../protocol/headers/broker-registration.js';
import { stringifyCompat } from '../protocol/json-compat.js';
import { createRequest } from '../protocol/remoting-command.js';
import { RequestCode } from '../protocol/request-code.js';
import { ResponseCode } from '../protocol/response-code.js';
import { encodeRegisterBrokerBody, type TopicConfig } from '../protocol/route-data.js';
import type { RemotingClient } from '../net/remoting-client.js';
import type { DataVersionJson } from './data-version.js';
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
  /** The whole topic table to announce (read for full registrations only). */
  topicTable: () => TopicConfigTableJson;
  /** The topic table's current data version (sent with incremental registrations). */
  dataVersion: () => DataVersionJson;
  timeoutMs?: number;
}

/** Splits `a:1;b:2` into addresses (blank entries dropped). */
export function parseNamesrvAddr(text: string): string[] {
  return text
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

/**
 * Talks to the name servers on the broker's behalf.
 *
 * Registrations run one round at a time; requests made while a round is in flight are merged
 * into the next round. A round is either *full* (the whole topic table: at start, every
 * `registerNameServerPeriod`, after a topic is deleted, and for a name server whose previous
 * registration failed) or *incremental* (only the topics created or changed since the previous
 * round, with the table's current data version). Creating N topics therefore costs O(N) bytes
 * on the wire instead of O(N²): with 10,000 topics a full table is about 2.5 MB of JSON.
 * Full tables carry the extField `completeTopicTable=true` (a Sluice name server then drops
 * topics missing from them); deltas look like RocketMQ's increment registrations, which every
 * name server merges.
 *
 * The periodic round ({@link refresh}) first asks each name server whether it holds the table's
 * current data version (QUERY_DATA_VERSION, which also renews the broker's lease there, as
 * RocketMQ brokers do with `forceRegister=false`) and sends the full table only where it does
 * not: re-sending 2.5 MB of unchanged JSON every 30 s cost ~110 ms of the broker's event loop to
 * encode, plus the name server's decoding.
 */
export class NameServerRegistrar {
  private readonly client: RemotingClient;
  private readonly options: RegistrarOptions;
  private readonly log: Logger;
  private readonly addresses: string[];
  private inFlight: Promise<void> | undefined;
  private again = false;
  /** A full round was asked for and has not started yet. */
  private fullRequested = false;
  /** A periodic round (version check, full table where it differs) is due. */
  private refreshRequested = false;
  /** Topics created or changed since the last round started (name → config). */
  private changedTopics = new Map<string, TopicConfig>();
  /** Name servers that missed a registration: they get the full table next. */
  private readonly needFull = new Set<string>();
  /** Rounds sent so far, by kind (diagnostics and tests). */
  readonly rounds = { full: 0, incremental: 0, versionChecks: 0 };

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
   * Registers the whole topic table with every name server. Calls made while a registration is
   * running are merged into one more round after it. Never rejects.
   */
  registerAll(): Promise<void> {
    this.fullRequested = true;
    return this.kick();
  }

  /**
   * The periodic registration: each name server that holds the topic table's current data
   * version only has the broker's lease renewed (QUERY_DATA_VERSION); the others, and those
   * that cannot be asked, get the whole table. Never rejects.
   */
  refresh(): Promise<void> {
    this.refreshRequested = true;
    return this.kick();
  }

  /**
   * Notes a topic change for the next incremental round; a deletion asks for a full round
   * (only a full table tells a name server which topics are gone). Does not send anything:
   * call {@link registerChanges}.
   */
  noteTopicChange(topic: TopicConfig, deleted: boolean): void {
    if (deleted) {
      this.changedTopics.delete(topic.topicName);
      this.fullRequested = true;
    } else {
      this.changedTopics.set(topic.topicName, topic);
    }
  }

  /**
   * Sends the changes noted so far (incremental round, or full when one is due); resolves when
   * every name server answered for them. Resolves at once when nothing is pending. Never rejects.
   */
  registerChanges(): Promise<void> {
    if (
      !this.fullRequested &&
      !this.refreshRequested &&
      this.changedTopics.size === 0 &&
      this.needFull.size === 0
    ) {
      return this.inFlight ?? Promise.resolve();
    }
    return this.kick();
  }

  private kick(): Promise<void> {
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    const loop = async (): Promise<void> => {
      do {
        this.again = false;
        await this.round();
      } while (this.again);
    };
    this.inFlight = loop().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** One round: takes the pending changes and sends each name server what it needs. */
  private async round(): Promise<void> {
    const full = this.fullRequested;
    const refresh = this.refreshRequested;
    const changed = this.changedTopics;
    this.fullRequested = false;
    this.refreshRequested = false;
    this.changedTopics = new Map();
    const dataVersion = this.options.dataVersion();
    let fullBody: Buffer | undefined;
    let deltaBody: Buffer | undefined;
    const sendFull = (address: string): Promise<void> => {
      if (fullBody === undefined) {
        const table = this.options.topicTable();
        fullBody = encodeRegisterBrokerBody({
          topicConfigSerializeWrapper: {
            topicConfigTable: table.topicConfigTable,
            dataVersion: table.dataVersion,
          },
          filterServerList: [],
        });
      }
      this.rounds.full++;
      return this.registerOne(address, fullBody, false);
    };
    await Promise.all(
      this.addresses.map(async (address) => {
        if (full || this.needFull.has(address)) return sendFull(address);
        if (changed.size > 0) {
          // A delta renews the lease too; its version makes the name server current.
          deltaBody ??= encodeRegisterBrokerBody({
            topicConfigSerializeWrapper: {
              topicConfigTable: Object.fromEntries(changed),
              dataVersion,
            },
            filterServerList: [],
          });
          this.rounds.incremental++;
          return this.registerOne(address, deltaBody, true);
        }
        if (!refresh) return undefined;
        this.rounds.versionChecks++;
        if (await this.holdsVersion(address, dataVersion)) return undefined;
        return sendFull(address);
      }),
    );
  }

  /**
   * Asks a name server whether it holds `version` of the topic table (QUERY_DATA_VERSION; an
   * answer renews the broker's lease). False when it does not, or cannot be asked.
   */
  private async holdsVersion(address: string, version: DataVersionJson): Promise<boolean> {
    const request = createRequest(RequestCode.QUERY_DATA_VERSION, {
      extFields: this.identityHeader(),
      body: Buffer.from(stringifyCompat(version)),
    });
    try {
      const response = await this.client.invoke(address, request, this.options.timeoutMs ?? 3_000);
      if (response.code !== ResponseCode.SUCCESS) return false;
      return !decodeQueryDataVersionResponseHeader(response.extFields).changed;
    } catch {
      return false; // the full registration that follows reports the problem
    }
  }

  private async registerOne(address: string, body: Buffer, incremental: boolean): Promise<void> {
    const o = this.options;
    const request = createRequest(RequestCode.REGISTER_BROKER, {
      extFields: encodeRegisterBrokerRequestHeader({
        brokerName: o.brokerName,
        brokerAddr: o.brokerAddr(),
        clusterName: o.clusterName,
        brokerId: o.brokerId,
        haServerAddr: '',
        compressed: false,
        bodyCrc32: 0,
        // Deltas go unmarked: to any name server they are a merge, as RocketMQ brokers' are.
        completeTopicTable: incremental ? undefined : true,
      }),
      body,
    });
    let ok = false;
    try {
      const response = await this.client.invoke(address, request, o.timeoutMs ?? 3_000);
      ok = response.code === ResponseCode.SUCCESS;
      if (!ok) {
        this.log.warn(
          `name server ${address} refused the registration: code ${response.code} ${response.remark ?? ''}`,
        );
      }
    } catch (error) {
      this.log.warn(`cannot register with name server ${address}: ${(error as Error).message}`);
    }
    // A name server that missed a delta no longer holds the table its version claims.
    if (ok && !incremental) this.needFull.delete(address);
    else if (!ok) this.needFull.add(address);
  }

  /** The broker's identity (UNREGISTER_BROKER, QUERY_DATA_VERSION). */
  private identityHeader(): Record<string, string> {
    const o = this.options;
    return encodeBrokerIdentityHeader({
      brokerName: o.brokerName,
      brokerAddr: o.brokerAddr(),
      clusterName: o.clusterName,
      brokerId: o.brokerId,
    });
  }

  /** Unregisters from every name server (best effort, never rejects). */
  async unregisterAll(): Promise<void> {
    const o = this.options;
    await Promise.all(
      this.addresses.map(async (address) => {
        const request = createRequest(RequestCode.UNREGISTER_BROKER, {
          extFields: this.identityHeader(),
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
