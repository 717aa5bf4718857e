/**
 * CLI: `tsx local/gse-simulator/main.ts --port 9000 --agents 100000`.
 * Prints the URL and the control token (never the app secret or slot token), then runs until SIGINT/SIGTERM.
 */
import { parseArgs } from "node:util";
import { startGseSimulator, type GseSimulatorOptions } from "./index.ts";

const HELP = `usage: tsx local/gse-simulator/main.ts [options]
  --port N            listen port (default 0 = free port)
  --host H            bind address (default 127.0.0.1)
  --agents N          simulated agents (default 1000)
  --seed N            PRNG seed (default 1)
  --app-code S        accepted bk_app_code (default bk_monitorv3)
  --app-secret S      accepted bk_app_secret (default: the documented simulator default)
  --slot-id N         message slot id (default 37)
  --slot-token S      message slot token
  --callback-url URL  where plugin replies are POSTed
  --reply-delay-ms N  delay before a plugin reply (default 0)
  --control-token S   bearer token for /_sim/* (default: random, printed)
  --tick-ms N         churn period in ms, 0 = off (default 60000)
  --churn-rate F      fraction of agents changing status per tick (default 0.01)
  --log               log one line per request to stderr`;

function toInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new Error(`--${name} must be a number`);
  return parsed;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      host: { type: "string" },
      agents: { type: "string" },
      seed: { type: "string" },
      "app-code": { type: "string" },
      "app-secret": { type: "string" },
      "slot-id": { type: "string" },
      "slot-token": { type: "string" },
      "callback-url": { type: "string" },
      "reply-delay-ms": { type: "string" },
      "control-token": { type: "string" },
      "tick-ms": { type: "string" },
      "churn-rate": { type: "string" },
      log: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const options: GseSimulatorOptions = {
    port: toInt("port", values.port),
    host: values.host,
    agents: toInt("agents", values.agents),
    seed: toInt("seed", values.seed),
    replyDelayMs: toInt("reply-delay-ms", values["reply-delay-ms"]),
    controlToken: values["control-token"],
    tickMs: toInt("tick-ms", values["tick-ms"]),
    churnRate: toInt("churn-rate", values["churn-rate"]),
    callbackUrl: values["callback-url"],
    log: values.log === true,
  };
  if (values["app-code"] !== undefined || values["app-secret"] !== undefined) {
    options.credentials = [{ bk_app_code: values["app-code"] ?? "bk_monitorv3", bk_app_secret: values["app-secret"] ?? "gse-simulator-secret" }];
  }
  if (values["slot-id"] !== undefined || values["slot-token"] !== undefined) {
    options.slot = { slot_id: toInt("slot-id", values["slot-id"]) ?? 37, token: values["slot-token"] ?? "c2xvdC10b2tlbg" };
  }
  const simulator = await startGseSimulator(options);
  process.stdout.write(
    `GSE simulator listening on ${simulator.url}\n` +
      `  control token: ${simulator.controlToken}\n` +
      `  bk_app_code:   ${simulator.credentials.map((c) => c.bk_app_code).join(", ")}\n` +
      `  slot_id:       ${simulator.slot.slot_id}\n` +
      `  agents:        ${simulator.counters().agents}\n`,
  );
  const shutdown = (): void => {
    void simulator.stop().then(() => process.exit(0));
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`gse-simulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
