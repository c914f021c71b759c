// What a command gets from the process that runs it: a way to exit and to hear signals.
// Its own module so that subcommands (bench, keys, meta) need not import lib/cli.ts, which
// loads them: that would be an import cycle.
export interface ProcessHooks {
  exit(code: number): void;
  onSignal(signal: 'SIGTERM' | 'SIGINT', fn: () => void): void;
  /** Shows the start-up banner; bin/ passes one only when stderr is a terminal. */
  banner?(text: string): void;
}
