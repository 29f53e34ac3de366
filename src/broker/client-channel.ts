/** A client connection as the broker's client tables see it. */

/** One client's registration on one connection. `C` is the network layer's connection type. */
export interface ClientChannelInfo<C> {
  readonly channel: C;
  readonly clientId: string;
  /** `host:port` of the peer. */
  readonly clientAddr: string;
  language: string;
  version: number;
  /** Last heartbeat (ms since epoch). */
  lastUpdateTimestamp: number;
}
