// Runs a JavaScript tool inside the sandbox: main(args) of the tool module, its JSON result on fd 3.
// Bound read-only at /sandbox/harness.mjs; the tool is /sandbox/tool.mjs (ES module) or /sandbox/tool.cjs.
import { readdirSync, readFileSync, writeSync } from "node:fs";

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

try {
  process.exit(await run());
} catch (error) {
  console.error(error?.stack ?? String(error));
  report({ error: `${error?.name ?? "Error"}: ${error?.message ?? String(error)}` });
  process.exit(1);
}
