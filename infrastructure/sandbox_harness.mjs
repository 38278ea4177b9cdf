// Runs a JavaScript tool inside the sandbox: main(args) of the tool module, its JSON result on fd 3.
// Bound read-only at /sandbox/harness.mjs; the tool is /sandbox/tool.mjs (ES module) or /sandbox/tool.cjs.
import { readdirSync, readFileSync, writeSync } from "node:fs";

// Blocking stdout and stderr, as in Python: a tool printing 100 MB waits for the pipe instead of buffering it all
// in memory (measured: it was killed at the memory limit otherwise).
for (const stream of [process.stdout, process.stderr]) stream._handle?.setBlocking?.(true);

const report = (message) => writeSync(3, JSON.stringify(message) + "\n");

async function run() {
  const args = JSON.parse(readFileSync(0, "utf8") || "{}");
  const file = readdirSync("/sandbox").find((name) => name.startsWith("tool."));
  const module = await import(`/sandbox/${file}`);
  const main = module.main ?? module.default?.main ?? module.default;
  if (typeof main !== "function") {
    report({ error: "the source exports no function main" });
    return 1;
  }
  const value = await main(args);
  let text;
  try {
    text = JSON.stringify(value === undefined ? null : value);
  } catch (error) {
    report({ error: `the return value is not JSON: ${error.message}` });
    return 1;
  }
  if (text === undefined) {
    report({ error: `the return value is not JSON: a ${typeof value}` });
    return 1;
  }
  writeSync(3, `{"return": ${text}}\n`);
  return 0;
}

// Exit only once stdout and stderr have been flushed (writes to a pipe are asynchronous in node by default).
const flushed = (stream) => new Promise((done) => stream.write("", done));

let code = 1;
try {
  code = await run();
} catch (error) {
  console.error(error?.stack ?? String(error));
  report({ error: `${error?.name ?? "Error"}: ${error?.message ?? String(error)}` });
}
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
