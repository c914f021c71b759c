// What a storage backend set up for a test run gives the suites: its config, and how to tear
// down the upstream it started. Its own module so backends.ts and the backend helpers it loads
// do not import each other.
import type { ConfigInput } from '../../lib/index.ts';

export interface BackendSetup {
  storage: ConfigInput['storage'];
  cleanup(): Promise<void>;
}
