// A plain Chromium page (browser.ts has the recording one) and a second origin: a tiny page
// server on another port, so requests to BleepStore from its pages are cross-origin.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';
import { launchProfile } from './browser.ts';

export { SKIP_BROWSER as NO_CHROMIUM } from './browser.ts';

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  const { context, close } = await launchProfile();
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page, close };
}

export interface PageServer {
  origin: string;
  close(): Promise<void>;
}

/** Serves `html` at every path on 127.0.0.1:<free port>: the other origin. */
export async function servePage(html: () => string): Promise<PageServer> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
