// Debian's Chromium driven by playwright-core (which never downloads a browser of its own),
// with every request the browser makes recorded, so a test can check nothing left the host.
import type { TestContext } from 'node:test';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** Headless, sandbox-free (root in CI), and no traffic of its own (updates, sync, QUIC). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
// In CI the browser is installed by scripts/install-test-clients.sh, so it must not be skipped.
export const SKIP_BROWSER =
  !existsSync(CHROMIUM) && !process.env.CI
    ? `${CHROMIUM} is not installed (bash scripts/install-test-clients.sh installs it)`
    : false;

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Every URL the browser requested. */
  urls: string[];
  /** Failed requests, page errors and console errors. */
  problems: string[];
  /** A temp directory for screenshots (kept when KEEP_ARTIFACTS is set). */
  dir: string;
  /** URLs that went anywhere but `host`. */
  offHost(host: string): string[];
}

export interface LaunchOptions {
  viewport?: { width: number; height: number };
  /**
   * The flows answer some requests with 4xx (Chromium logs each to the console) and abort
   * some on purpose (a cancelled upload, a navigation that became a download): not problems.
   */
  expectHttpErrors?: boolean;
}

/**
 * A persistent Chromium context in a fresh temp profile. `close` shuts the browser first and
 * only then removes the profile (Chromium writes its cache until it exits), and is bounded:
 * a browser that does not close in 15 s must not hold a test file open (CI once hung 87 min).
 */
export async function launchProfile(viewport?: {
  width: number;
  height: number;
}): Promise<{ context: BrowserContext; dir: string; close(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-browser-'));
  const context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: viewport ?? { width: 1280, height: 800 },
    acceptDownloads: true,
    args: CHROMIUM_ARGS,
  });
  const close = async () => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 15_000);
    });
    await Promise.race([context.close().catch(() => undefined), timeout]);
    clearTimeout(timer);
    if (!process.env.KEEP_ARTIFACTS) await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  };
  return { context, dir, close };
}

export async function launchBrowser(t: TestContext, opts: LaunchOptions = {}): Promise<Browser> {
  const { context, dir, close } = await launchProfile(opts.viewport);
  t.after(close);
  const urls: string[] = [];
  const problems: string[] = [];
  context.on('request', (r) => void urls.push(r.url()));
  context.on('requestfailed', (r) => {
    const why = r.failure()?.errorText ?? '';
    if (!(opts.expectHttpErrors && /ERR_ABORTED/.test(why))) problems.push(`request failed: ${r.url()} ${why}`);
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => void problems.push(`page error: ${e.message}`));
  page.on(
    'console',
    (m) =>
      void (
        m.type() === 'error' &&
        !(opts.expectHttpErrors && m.text().startsWith('Failed to load resource')) &&
        problems.push(`console error: ${m.text()}`)
      ),
  );
  return {
    context,
    page,
    urls,
    problems,
    dir,
    offHost: (host) => urls.filter((u) => !/^(data|blob):/.test(u) && new URL(u).host !== host),
  };
}
