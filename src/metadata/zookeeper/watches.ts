/**
 * The client's side of ZooKeeper's one-shot watches. The server keeps one watch per path and kind for a session
 * and fires it once; the client keeps the callbacks per (server) path and kind:
 * - data watches, set by `get` and by `exists` on a znode that exists, fire on dataChanged and deleted;
 * - exist watches, set by `exists` on a znode that does not exist, fire on created;
 * - child watches, set by `children`, fire on childrenChanged and deleted.
 * A callback is registered only when the request that set the watch succeeded (the server sets none otherwise),
 * and removed when it fires. Across reconnects of one session the paths are sent again with SetWatches, and the
 * server fires at once what changed since the last zxid the client saw; when the session ends every callback left
 * gets a final 'sessionExpired' or 'closed' event.
 */
import { EventType } from './protocol.js';

export type WatchEventType = 'created' | 'deleted' | 'dataChanged' | 'childrenChanged' | 'sessionExpired' | 'closed';

export interface WatchEvent {
  type: WatchEventType;
  /** The watched path, relative to the chroot. */
  path: string;
}

export type Watcher = (event: WatchEvent) => void;

export type WatchKind = 'data' | 'exist' | 'child';

export class WatchRegistry {
  private readonly data = new Map<string, Set<Watcher>>();
  private readonly exist = new Map<string, Set<Watcher>>();
  private readonly child = new Map<string, Set<Watcher>>();

  private map(kind: WatchKind): Map<string, Set<Watcher>> {
    return kind === 'data' ? this.data : kind === 'exist' ? this.exist : this.child;
  }

  add(kind: WatchKind, serverPath: string, watcher: Watcher): void {
    const m = this.map(kind);
    let set = m.get(serverPath);
    if (set === undefined) {
      set = new Set();
      m.set(serverPath, set);
    }
    set.add(watcher);
  }

  get size(): number {
    return this.data.size + this.exist.size + this.child.size;
  }

  /** The paths to send in SetWatches after a reconnect. */
  paths(): { data: string[]; exist: string[]; child: string[] } {
    return { data: [...this.data.keys()], exist: [...this.exist.keys()], child: [...this.child.keys()] };
  }

  /** Removes and returns the callbacks a server notification fires, with the event type they get. */
  take(eventType: number, serverPath: string): { type: WatchEventType; watchers: Watcher[] } | undefined {
    // One callback registered through several kinds is called once.
    const watchers = new Set<Watcher>();
    const drain = (m: Map<string, Set<Watcher>>): void => {
      const set = m.get(serverPath);
      if (set === undefined) return;
      m.delete(serverPath);
      for (const w of set) watchers.add(w);
    };
    let type: WatchEventType;
    switch (eventType) {
      case EventType.nodeCreated:
        type = 'created';
        drain(this.data);
        drain(this.exist);
        break;
      case EventType.nodeDataChanged:
        type = 'dataChanged';
        drain(this.data);
        drain(this.exist);
        break;
      case EventType.nodeDeleted:
        type = 'deleted';
        drain(this.data);
        drain(this.exist);
        drain(this.child);
        break;
      case EventType.nodeChildrenChanged:
        type = 'childrenChanged';
        drain(this.child);
        break;
      default:
        return undefined;
    }
    return { type, watchers: [...watchers] };
  }

  /** Removes every callback, with its server path (each callback once per path). */
  takeAll(): { serverPath: string; watcher: Watcher }[] {
    const byPath = new Map<string, Set<Watcher>>();
    for (const m of [this.data, this.exist, this.child]) {
      for (const [serverPath, set] of m) {
        const all = byPath.get(serverPath) ?? new Set<Watcher>();
        byPath.set(serverPath, all);
        for (const w of set) all.add(w);
      }
      m.clear();
    }
    const out: { serverPath: string; watcher: Watcher }[] = [];
    for (const [serverPath, set] of byPath) for (const watcher of set) out.push({ serverPath, watcher });
    return out;
  }
}
