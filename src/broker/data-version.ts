/**
 * RocketMQ's DataVersion: a stamp that changes whenever a config table changes, so that name
 * servers (and operators) can tell whether a broker's topic table is new.
 */

/** The serialized shape (`{stateVersion, timestamp, counter}`). */
export interface DataVersionJson {
  stateVersion: number;
  timestamp: number;
  counter: number;
}

/** A mutable version stamp. */
export class DataVersion {
  stateVersion = 0;
  timestamp = Date.now();
  counter = 0;

  /** Marks a change: bumps the counter and refreshes the timestamp. */
  nextVersion(stateVersion = this.stateVersion): void {
    this.stateVersion = stateVersion;
    this.timestamp = Date.now();
    this.counter++;
  }

  /** A plain copy for JSON. */
  toJSON(): DataVersionJson {
    return { stateVersion: this.stateVersion, timestamp: this.timestamp, counter: this.counter };
  }

  /** Restores a stamp read from a file; ignores fields of the wrong type. */
  assign(json: Partial<DataVersionJson> | undefined): void {
    if (!json) return;
    if (typeof json.stateVersion === 'number') this.stateVersion = json.stateVersion;
    if (typeof json.timestamp === 'number') this.timestamp = json.timestamp;
    if (typeof json.counter === 'number') this.counter = json.counter;
  }
}
