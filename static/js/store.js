// The live review: the current state, the log of applied event ids, and listeners.
// `eventLog` lists every event id applied, in order, each exactly once.

import { applyEvent, fromSnapshot } from "./state.js";

export class ReviewStore {
  constructor() {
    this.state = null;
    this.eventLog = [];
    this.snapshots = []; // {last_event_id, reason, at}: each time the state was rebuilt from a snapshot
    this.ignored = 0; // events received but not applied (already applied)
    this.listeners = new Set();
  }

  get lastEventId() {
    return this.state ? this.state.lastEventId : null;
  }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(change) {
    for (const fn of this.listeners) fn(this.state, change);
  }

  /** Rebuild from a snapshot (first load, or a resync the server could not replay). */
  reset(snapshot, reason = "load") {
    this.state = fromSnapshot(snapshot);
    this.snapshots.push({ last_event_id: snapshot.last_event_id || null, reason, at: Date.now() });
    this.emit({ type: "reset", reason });
  }

  /** Apply one event; false when it was already applied (or there is no state yet). */
  apply(event) {
    const next = applyEvent(this.state, event);
    if (next === this.state) {
      this.ignored += 1;
      return false;
    }
    this.state = next;
    this.eventLog.push(event.id);
    this.emit({ type: "event", event });
    return true;
  }
}
