// node:http and node:https without their ES module facades. Building the facade of node:http
// reads every export, and Node 24's lazy WebSocket/CloseEvent/MessageEvent getters on it load
// the bundled undici: ~20 ms of CPU at package import, half the import budget
// (test/package/pack.test.ts). process.getBuiltinModule returns the CommonJS module as is.
// https://nodejs.org/api/process.html#processgetbuiltinmoduleid
export const http = process.getBuiltinModule('node:http');
export const https = process.getBuiltinModule('node:https');
