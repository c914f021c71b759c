// One progress line on stderr for long admin runs: rewritten in place on a terminal, a new
// line at most once a second otherwise, and a closing summary line either way.

export interface Progress {
  update(message: string): void;
  done(message: string): void;
}

export function progressLine(name: string, stream: NodeJS.WriteStream = process.stderr, everyMs = 1000): Progress {
  const tty = stream.isTTY === true;
  let last = Date.now();
  let shown = false;
  return {
    update(message) {
      const now = Date.now();
      if (now - last < everyMs) return;
      last = now;
      shown = true;
      stream.write(tty ? `\r\x1b[2K${name}: ${message}` : `${name}: ${message}\n`);
    },
    done(message) {
      stream.write(`${tty && shown ? '\r\x1b[2K' : ''}${name}: ${message}\n`);
    },
  };
}
