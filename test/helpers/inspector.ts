// Reaching into a real server process's worker threads from outside, over the inspector a
// process started with `node --inspect=127.0.0.1:0` listens on (Chrome DevTools Protocol, the
// NodeWorker domain: https://chromedevtools.github.io/devtools-protocol/v8/ and Node's
// src/inspector/node_protocol.pdl). Nothing in the server knows about it: a test can end a
// worker thread the way a fatal error would, with no test hook in the code under test.
import type { ChildProcess } from 'node:child_process';

export interface WorkerInfo {
  sessionId: string;
  workerId: string;
  /** The file the thread runs. */
  url: string;
}

export interface Inspector {
  /** Worker threads attached now (attachedToWorker minus detachedFromWorker), oldest first. */
  workers(): WorkerInfo[];
  /** Resolves with the first attached worker not in `except` whose file's URL contains `file`. */
  nextWorker(file: string, except: ReadonlySet<string>, ms: number): Promise<WorkerInfo>;
  /** Runs `expression` in a worker (Runtime.evaluate); resolves once it was sent. */
  evaluateIn(worker: WorkerInfo, expression: string): void;
  close(): void;
}

/**
 * Follows the "Debugger listening on ws://…" lines of a process's stderr; returns the latest
 * URL. The latest, not the first: bin/bleepstore re-executes itself (process.execve, same pid)
 * and the new image opens an inspector of its own, so read it once the server is ready.
 */
export function watchInspectorUrl(proc: ChildProcess): () => string {
  let seen = '';
  proc.stderr!.on('data', (c: Buffer) => (seen += c.toString()));
  return () => {
    const all = [...seen.matchAll(/Debugger listening on (ws:\/\/\S+)/g)];
    if (!all.length) throw new Error(`the process announced no inspector: ${seen}`);
    return all[all.length - 1]![1]!;
  };
}

/** Connects to a process's inspector and follows its worker threads. */
export async function connectInspector(url: string): Promise<Inspector> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', () => reject(new Error(`inspector at ${url} refused the connection`)), {
      once: true,
    });
  });
  const attached = new Map<string, WorkerInfo>();
  const changed = new Set<() => void>();
  ws.addEventListener('message', (e) => {
    const m = JSON.parse(String(e.data)) as { method?: string; params?: Record<string, unknown> };
    if (m.method === 'NodeWorker.attachedToWorker') {
      const p = m.params as { sessionId: string; workerInfo: { workerId: string; url: string } };
      attached.set(p.sessionId, { sessionId: p.sessionId, workerId: p.workerInfo.workerId, url: p.workerInfo.url });
    } else if (m.method === 'NodeWorker.detachedFromWorker') {
      attached.delete((m.params as { sessionId: string }).sessionId);
    } else return;
    for (const f of changed) f();
  });
  let id = 0;
  const send = (method: string, params: Record<string, unknown>) =>
    ws.send(JSON.stringify({ id: ++id, method, params }));
  send('NodeWorker.enable', { waitForDebuggerOnStart: false });
  return {
    workers: () => [...attached.values()],
    nextWorker(file, except, ms) {
      return new Promise((resolve, reject) => {
        const look = () => {
          const w = [...attached.values()].find((x) => x.url.includes(file) && !except.has(x.workerId));
          if (!w) return;
          changed.delete(look);
          clearTimeout(timer);
          resolve(w);
        };
        const timer = setTimeout(() => {
          changed.delete(look);
          reject(
            new Error(
              `no new worker running ${file} within ${ms} ms (attached: ${JSON.stringify([...attached.values()])})`,
            ),
          );
        }, ms);
        changed.add(look);
        look();
      });
    },
    evaluateIn(worker, expression) {
      send('NodeWorker.sendMessageToWorker', {
        sessionId: worker.sessionId,
        message: JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression } }),
      });
    },
    close: () => ws.close(),
  };
}
