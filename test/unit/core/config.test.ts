import { describe, expect, it } from "vitest";
import { callersOf, ConfigError, getConfig, gseOf, loadConfig, NotLinkedError, queueUrlOf, SETTINGS, tableOf } from "../../../lib/core/config.ts";

const secret = "super-secret-value-123";

function validEnv(): NodeJS.ProcessEnv {
  return {
    GSE_BASE_URL: "http://gse.example.com",
    GSE_APP_CODE: "bk_monitorv3",
    GSE_APP_SECRET: secret,
    GSE_SLOT_ID: "37",
    GSE_SLOT_TOKEN: "slot-token-value",
    GSE_CALLBACK_KEY: "callback-key-value-0001",
    AGENTS_TABLE: "agents",
    CONFIGS_TABLE: "configs",
    COMMANDS_TABLE: "commands",
    APPS_TABLE: "apps",
    FLEET_TABLE: "fleet",
    ALERTS_TOPIC_ARN: "arn:aws:sns:us-east-1:000000000000:alerts",
    AUTOMATION_QUEUE_URL: "http://sqs.local/000000000000/automation",
    AUTOMATION_DLQ_URL: "http://sqs.local/000000000000/automation-dlq",
    ALERT_LOG_QUEUE_URL: "http://sqs.local/000000000000/alert-log",
    ALERT_LOG_DLQ_URL: "http://sqs.local/000000000000/alert-log-dlq",
    SLOT_FORWARD_QUEUE_URL: "http://sqs.local/000000000000/slot-forward",
    SLOT_FORWARD_DLQ_URL: "http://sqs.local/000000000000/slot-forward-dlq",
    API_CALLERS: JSON.stringify([{ bk_app_code: "caller", bk_app_secret: "caller-secret-1" }]),
  };
}

function problemsOf(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error("loadConfig accepted the environment");
}

describe("loadConfig", () => {
  it("builds the config with defaults from a complete environment", () => {
    const config = loadConfig(validEnv());
    expect(config.gse).toMatchObject({ baseUrl: "http://gse.example.com", flavour: "v2", slotId: 37, useNewAgentStatusApi: true, agentChunkSize: 1000 });
    expect(config.agentCacheTtlSeconds).toBe(300);
    expect(config.callers).toEqual([{ bk_app_code: "caller", bk_app_secret: "caller-secret-1" }]);
    expect(config.tables).toEqual({ agents: "agents", configs: "configs", commands: "commands", apps: "apps", fleet: "fleet" });
  });

  it("forwards no slot message unless GSE_SLOT_FORWARD_URL is set, and refuses a URL that is not http(s)", () => {
    expect(loadConfig(validEnv()).slotForward).toEqual({ timeoutMs: 5_000, retryBaseSeconds: 10, retryMaxSeconds: 600 });
    const url = "https://bkmonitor.example.com/api/v4/bk_gse_slot/";
    expect(loadConfig({ ...validEnv(), GSE_SLOT_FORWARD_URL: url }).slotForward.url).toBe(url);
    expect(problemsOf({ ...validEnv(), GSE_SLOT_FORWARD_URL: "ftp://bkmonitor.example.com/" })).toContain("GSE_SLOT_FORWARD_URL");
  });

  it.each(["GSE_BASE_URL", "GSE_APP_SECRET", "GSE_SLOT_TOKEN", "AGENTS_TABLE", "API_CALLERS"])("fails fast naming %s when it is missing", (name) => {
    const env = validEnv();
    delete env[name];
    expect(problemsOf(env)).toMatch(new RegExp(`${name}.*is required but not set`));
  });

  it("treats an empty variable as not set", () => {
    expect(problemsOf({ ...validEnv(), GSE_APP_CODE: "" })).toContain("GSE_APP_CODE: is required but not set");
  });

  it("names every bad setting at once, with what is wrong", () => {
    const message = problemsOf({ ...validEnv(), GSE_API_FLAVOUR: "soap", GSE_AGENT_CHUNK_SIZE: "9000", GSE_BASE_URL: "not a url" });
    expect(message).toContain("GSE_API_FLAVOUR");
    expect(message).toContain("GSE_AGENT_CHUNK_SIZE");
    expect(message).toContain("GSE_BASE_URL");
  });

  it("reports a bad caller list by its variable and the field at fault, without echoing secrets", () => {
    const message = problemsOf({ ...validEnv(), API_CALLERS: JSON.stringify([{ bk_app_code: "x", bk_app_secret: "short" }]) });
    expect(message).toContain("API_CALLERS");
    expect(message).toContain("at 0.bk_app_secret");
    expect(message).not.toContain("short");
    expect(problemsOf({ ...validEnv(), API_CALLERS: `[{"oops": ${secret}` })).not.toContain(secret);
  });

  it("prefers a linked SST resource over the environment", () => {
    const config = loadConfig(validEnv(), (link, property) =>
      link === "Agents" && property === "name" ? "prod-agents" : link === "GseAppSecret" ? "from-sst-secret" : undefined,
    );
    expect(config.tables.agents).toBe("prod-agents");
    expect(config.gse.appSecret).toBe("from-sst-secret");
  });

  it("parses USE_GSE_AGENT_STATUS_NEW_API like bk-monitor's switch", () => {
    expect(loadConfig({ ...validEnv(), USE_GSE_AGENT_STATUS_NEW_API: "false" }).gse.useNewAgentStatusApi).toBe(false);
    expect(problemsOf({ ...validEnv(), USE_GSE_AGENT_STATUS_NEW_API: "perhaps" })).toContain("USE_GSE_AGENT_STATUS_NEW_API");
  });

  it("has exactly one source per setting path", () => {
    const paths = SETTINGS.map((s) => s.path);
    expect(new Set(paths).size).toBe(paths.length);
  });
});

describe("loadConfig for one function's links", () => {
  it("requires only the settings of the resources the function links", () => {
    const env = validEnv();
    delete env.AGENTS_TABLE;
    delete env.ALERTS_TOPIC_ARN;
    const config = loadConfig(env, undefined, ["ApiCallers", "GseAppSecret"]);
    expect(config.tables.agents).toBeUndefined();
    expect(callersOf(config)).toHaveLength(1);
    expect(() => loadConfig(env, undefined, ["ApiCallers", "Agents"])).toThrow(/AGENTS_TABLE \(or linked Agents\.name\): is required/);
  });

  it("ignores what an unlinked resource's variable holds", () => {
    const config = loadConfig({ ...validEnv(), AGENTS_TABLE: "present-but-not-linked" }, undefined, ["ApiCallers"]);
    expect(config.tables.agents).toBeUndefined();
  });

  it("names the missing link when a function reads a resource it does not link", () => {
    const config = loadConfig(validEnv(), undefined, ["ApiCallers"]);
    expect(() => tableOf(config, "agents")).toThrow(NotLinkedError);
    expect(() => tableOf(config, "agents")).toThrow(/uses Agents but does not link it/);
    expect(() => gseOf(config)).toThrow(/uses GseAppSecret/);
    expect(() => queueUrlOf(config, "automationDlq")).toThrow(/uses AutomationDlq/);
  });
});

describe("getConfig", () => {
  it("keeps one config per set of links, so functions sharing a process each get their own", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, validEnv());
    try {
      const narrow = await getConfig(["ApiCallers"]);
      const wide = await getConfig(["Agents", "ApiCallers"]);
      expect(narrow.tables.agents).toBeUndefined();
      expect(wide.tables.agents).toBe("agents");
      expect(await getConfig(["ApiCallers", "Agents"])).toBe(wide);
    } finally {
      process.env = saved;
    }
  });
});
