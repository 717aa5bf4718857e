/**
 * What gse-control's own routes (the service's and those under /v1/) add to their wiring entry in
 * the OpenAPI document: descriptions, the zod schemas their handlers validate bodies with and
 * answer `data` in. Nothing here restates a shape; the GSE-compatible routes are in gse-paths.ts.
 */
import * as z from "zod";
import {
  appListQuerySchema,
  appListSchema,
  appPathSchema,
  appViewSchema,
  createAppSchema,
  datasourceActionSchema,
  datasourceApplyFailureSchema,
  datasourcePathSchema,
  datasourceRequestSchema,
  discoverRequestSchema,
  ingestAnswerSchema,
  probeCommandAnswerSchema,
  probeIngestSchema,
  probeListSchema,
  probeQuerySchema,
  probeVersionsSchema,
  updateAppSchema,
  upgradeRequestSchema,
} from "../apm/schemas.ts";
import {
  rolloutActionParamSchema,
  rolloutActionSchema,
  rolloutIdParamSchema,
  rolloutListQuerySchema,
  rolloutListSchema,
  rolloutViewSchema,
  startRolloutSchema,
} from "../rollouts/schemas.ts";
import {
  cancelRequestSchema,
  commandActionSchema,
  commandListQuerySchema,
  commandListSchema,
  commandPageSchema,
  commandQuerySchema,
  commandViewSchema,
  messageIdParamSchema,
  upstreamListSchema,
  upstreamQuerySchema,
} from "../commands/schemas.ts";
import {
  diffDataSchema,
  diffQuerySchema,
  historyPageSchema,
  listQuerySchema,
  objectPathSchema,
  rollbackBodySchema,
  versionPathSchema,
  versionViewSchema,
} from "../config-versions/api.ts";
import { consoleDataSchema, consoleUnavailableDataSchema } from "../console/schemas.ts";
import { applyListQuerySchema } from "../desired/queries.ts";
import {
  applyListSchema,
  applyPathSchema,
  applyRequestSchema,
  applyViewSchema,
  createPlanRequestSchema,
  planPathSchema,
  planViewSchema,
} from "../desired/schemas.ts";
import {
  agentIdListBodySchema,
  agentPathSchema,
  historyDataSchema,
  historyQuerySchema,
  listAgentsDataSchema,
  listAgentsQuerySchema,
  registerDataSchema,
  summaryDataSchema,
  unregisterDataSchema,
} from "../fleet/schemas.ts";
import { labelsDataSchema, patchLabelsBodySchema, putLabelsBodySchema } from "../fleet/schemas.ts";
import { resolveBodySchema, resolveDataSchema } from "../fleet/resolve-schemas.ts";
import { slotCallbackSchema } from "../gse/schemas.ts";
import { CALLBACK_KEY_PARAM } from "../http/auth.ts";
import {
  templateBodySchema,
  templateGetQuerySchema,
  templateListQuerySchema,
  templateListSchema,
  templatePathSchema,
  templatePutAnswerSchema,
  templateVersionSchema,
} from "../templates/schemas.ts";
import type { FunctionKey } from "../wiring.ts";
import type { RouteDoc } from "./types.ts";

/** The 503 of a route whose dependency is down (lib/core/errors.ts DependencyUnavailableError). */
const DEPENDENCY_UNAVAILABLE = { code: 1650301, codeName: "DEPENDENCY_UNAVAILABLE" } as const;

/**
 * Documentation of the non-GSE functions that have something to add to their wiring entry: with
 * the schemas their handlers validate path, query and body with, and the errors each route answers
 * beyond those every route shares (`errors`, `failures`; lib/openapi/document.ts `errorNames`).
 */
export const SERVICE_ROUTE_DOCS: Partial<Record<FunctionKey, RouteDoc>> = {
  health: {
    summary: "Reachability of DynamoDB, SNS and GSE",
    description:
      'HTTP 200 (`result: true`, `code: 0`, `data.status: "ok"`) when every dependency answers. When one does not: ' +
      "HTTP 503 with `result: false`, `code: 1650301` (DEPENDENCY_UNAVAILABLE), a `message` naming the dependencies down, " +
      'and the same report as `data` (`status: "degraded"`, every dependency with `ok`, `latency_ms`, `detail`).',
    failures: {
      503: {
        ...DEPENDENCY_UNAVAILABLE,
        description:
          "A dependency is down (DEPENDENCY_UNAVAILABLE, code 1650301): `message` names it, `data` is the whole report " +
          '(`status: "degraded"`, `dependencies.{dynamodb,sns,gse}.{ok,latency_ms,detail}`). Details hold codes and error names, never a secret.',
      },
    },
  },
  fleet_summary: {
    description:
      "Counts by status (pending, alive, lost, unknown; `suspect` = alive but missed by the last polls), by class of GSE's last status_code (`by_class`: alive 2, degraded 3-4, transitional 0/1/5/6, gone 7, unknown -1/-2/omitted) and by agent version, with `outdated` below FLEET_MIN_VERSION, as of the last completed heartbeat poll. `data` is null before the first poll.",
    responseData: summaryDataSchema,
  },
  fleet_agents: {
    description:
      "Watched agents, `limit` (1-1000, default 100) at a time; query parameters `status` (pending|alive|suspect|lost|unknown), `class` (alive|degraded|transitional|gone|unknown: the class of GSE's last status_code, shown as `status_class` beside `status_code`), `version`, `outdated` (true|false), `seen_before`/`seen_after` (ISO 8601 last-seen bounds), `label` (`k=v`: agents labelled so; each agent shows its `labels`), `cursor` (the previous page's `next_cursor`). A page may hold fewer items than `limit` while `next_cursor` is not null.",
    query: listAgentsQuerySchema,
    responseData: listAgentsDataSchema,
  },
  fleet_register: {
    description: "Adds agents to the fleet the heartbeat polls (at most 5000 ids per call); agents watched already keep their state.",
    requestBody: agentIdListBodySchema,
    responseData: registerDataSchema,
  },
  fleet_unregister: {
    description: "Removes agents from the fleet; their transition history expires with HEARTBEAT_EVICT_AFTER_DAYS.",
    requestBody: agentIdListBodySchema,
    responseData: unregisterDataSchema,
  },
  fleet_history: {
    description:
      "The agent's current state (with `status_code` and its `status_class`) and its transitions (lost, recovered, stuck, unknown, and the news version_changed, newly_seen; each with the status_code, its name and class that made it), newest first; query parameters `limit` (1-500, default 50) and `cursor`. 404 when the agent is neither watched nor has history.",
    path: agentPathSchema,
    query: historyQuerySchema,
    errors: ["NotFound"],
    responseData: historyDataSchema,
  },
  fleet_labels_put: {
    description:
      "Replaces the agent's labels with `labels` (`{}` removes them all). A key is lower-case letters, digits, `.`, `_`, `-` (1-63, starting and ending alphanumeric), a value at most 63 characters, at most 32 labels. Target queries match them (`POST /v1/fleet/resolve`). 404 when the fleet does not watch the agent.",
    path: agentPathSchema,
    requestBody: putLabelsBodySchema,
    errors: ["NotFound"],
    responseData: labelsDataSchema,
  },
  fleet_labels_patch: {
    description:
      "Sets the labels of `set` and removes the keys of `remove`, keeping the agent's other labels; a key in both is a 400, as is a result over 32 labels (`set`). Answers the labels after the change. 404 when the fleet does not watch the agent.",
    path: agentPathSchema,
    requestBody: patchLabelsBodySchema,
    errors: ["NotFound"],
    responseData: labelsDataSchema,
  },
  fleet_resolve: {
    description:
      "Previews a target query (docs/rollouts.md §2): the watched agents matching every field given (`status_class`, also `lost` and `stuck`; `version`, a semver range; `bk_cloud_id`; `labels`, all exactly; `limit`), sorted. `count` is all matches, `agent_ids` the first 1000, `truncated` whether there are more. No match is a 400 on `target_query`, as a command or rollout by this query would be.",
    requestBody: resolveBodySchema,
    responseData: resolveDataSchema,
  },
  config_history: {
    summary: "Versions of a stream_to or route (kind `route` or `streamto`)",
    description:
      "`…/versions?limit=&cursor=`: newest first, `next_cursor` for the next page; a version's `status` is PENDING, APPLIED, REJECTED (GSE refused it, " +
      "or it never reached GSE: nothing changed; `error` holds GSE's code and message), FAILED, ROLLED_BACK or ROLLBACK_FAILED; an `adopt` version records what GSE " +
      "was found holding instead of what a failed or refused change wrote (`adoption`). The first page also lists `add_attempts`: adds of this very id " +
      "that GSE refused (the id was taken) or that failed, which never became a version (`head` is null when there are only those). " +
      "`…/versions/{version}`: one version; " +
      "`…/diff?from=&to=`: field-level changes between two versions. Credentials are masked; a diff says a secret changed, never its value.",
    routes: {
      "GET /v1/configs/{kind}/{id}/versions": {
        summary: "Versions of a stream_to or route, newest first (kind `route` or `streamto`)",
        path: objectPathSchema,
        query: listQuerySchema,
        errors: ["NotFound"],
        responseData: historyPageSchema,
      },
      "GET /v1/configs/{kind}/{id}/versions/{version}": {
        summary: "One version of a stream_to or route, credentials masked",
        path: versionPathSchema,
        errors: ["NotFound"],
        responseData: versionViewSchema,
      },
      "GET /v1/configs/{kind}/{id}/diff": {
        summary: "Field-level changes between versions `from` and `to`",
        path: objectPathSchema,
        query: diffQuerySchema,
        errors: ["NotFound"],
        responseData: diffDataSchema,
      },
    },
  },
  config_rollback: {
    summary: "Roll back to version N: a new version with N's document, applied and verified like any change",
    description: "Waits up to CONFIG_LOCK_WAIT_MS for another change of the object (or its recovery) to finish; 409 only after that wait.",
    path: objectPathSchema,
    requestBody: rollbackBodySchema,
    responseData: versionViewSchema,
    errors: ["NotFound", "Conflict"],
    gse: true,
  },
  config_drift: {
    summary: "Drift: the object's current version against what GSE holds now",
    path: objectPathSchema,
    errors: ["NotFound"],
    gse: true,
  },
  command_list: {
    description:
      "Commands, newest first; query parameters `status` (RUNNING, SUCCEEDED, PARTIAL, FAILED, ABORTED, CANCELLED), `limit` (1-200, default 50), `cursor`.",
    query: commandListQuerySchema,
    responseData: commandListSchema,
  },
  command_get: {
    description:
      "The command with its counts per outcome, and a page of agents it was sent to; query parameters `outcome`, `limit` (1-1000, default 100), `cursor`. A message_id holding `/` is sent URL-encoded. Agents of batches not sent are only counted (PENDING, or SKIPPED once the command ended).",
    path: messageIdParamSchema,
    query: commandQuerySchema,
    errors: ["NotFound"],
    responseData: commandPageSchema,
  },
  command_cancel: {
    description:
      "Batches not sent yet are never sent (SKIPPED), pending retries stop; batches in flight finish. 409 when the command is not RUNNING. No alert: a person asked.",
    path: messageIdParamSchema,
    requestBody: cancelRequestSchema,
    errors: ["NotFound", "Conflict"],
    responseData: commandViewSchema,
  },
  template_list: {
    summary: "Command templates by name, each with its latest version",
    description: "Query parameters `limit` (1-200, default 50), `cursor` (the answer's `next_cursor`).",
    query: templateListQuerySchema,
    responseData: templateListSchema,
  },
  template_get: {
    summary: "One version of a command template: the latest, or `?version=N`",
    path: templatePathSchema,
    query: templateGetQuerySchema,
    errors: ["NotFound"],
    responseData: templateVersionSchema,
  },
  template_put: {
    summary: "Store a command template: a new version (201) when the body differs from the latest, else the latest (200, `created: false`)",
    description:
      "`content`, `undo.content` and `expect_version` may hold `{{name}}` placeholders; each must name a declared parameter and each parameter must be used (400 naming the field). " +
      "Besides, the rollout settings of POST /v1/rollouts. A rollout runs a template by `{name, version?, parameters?}`. Versions never change once written.",
    path: templatePathSchema,
    requestBody: templateBodySchema,
    responseData: templatePutAnswerSchema,
    successStatuses: [201],
    errors: ["Conflict"],
  },
  rollout_start: {
    description:
      "A command sent in waves (`strategy`: all, linear, exponential) with `bake_seconds` between them, a health `gate` over the agents touched, an errors gate (`max_errors` over all waves), `expect_version` checked against the heartbeat, and an `undo` sent to the touched agents on abort (docs/rollouts.md §3). Idempotent on `rollout_id`: the same body answers the same rollout, another body is 409. `targets` is an id list or a `query` over the watched fleet (labels, status class, semver range, cloud), resolved and snapshotted at start. `content`, or `template` `{name, version?, parameters}`: the template's content and settings filled in, the body's own settings over them.",
    requestBody: startRolloutSchema,
    errors: ["Conflict"],
    responseData: rolloutViewSchema,
  },
  rollout_list: {
    description: "Rollouts, newest first; `status`, `limit` (1-200, default 50), `cursor`.",
    query: rolloutListQuerySchema,
    responseData: rolloutListSchema,
  },
  rollout_get: {
    description: "The rollout with its waves (each wave's command status and counts), gate state, errors and undo.",
    path: rolloutIdParamSchema,
    errors: ["NotFound"],
    responseData: rolloutViewSchema,
  },
  rollout_action: {
    description:
      "`pause`: no new wave starts (the wave running goes on); `resume`: goes on where it paused; `abort`: the wave's command stops, the undo is sent to the touched agents. 409 when the rollout has ended. No alert: a person asked.",
    path: rolloutIdParamSchema,
    requestBody: rolloutActionSchema,
    errors: ["NotFound", "Conflict"],
    responseData: rolloutViewSchema,
  },
  command_pause: {
    description:
      "Nothing new is claimed (no batch goes out) until resume; agents in flight still settle and count. The view shows `rollout.paused`. 409 when the command is not RUNNING.",
    path: messageIdParamSchema,
    requestBody: commandActionSchema,
    errors: ["NotFound", "Conflict"],
    responseData: commandViewSchema,
  },
  command_resume: {
    description: "Claims go on at once (a tick is queued), within the in-flight window. 409 when the command is not RUNNING.",
    path: messageIdParamSchema,
    requestBody: commandActionSchema,
    errors: ["NotFound", "Conflict"],
    responseData: commandViewSchema,
  },
  upstream_messages: {
    description:
      "Messages agents sent through the slot that no command of ours asked for (e.g. bkmonitorbeat's fetch/host/dataid), per UTC day (`date`, default today), newest first; `limit`, `cursor`.",
    query: upstreamQuerySchema,
    responseData: upstreamListSchema,
  },
  gse_callback: {
    summary: "GSE's message-slot callback (register this URL, with its key, for the slot)",
    description: `GSE posts \`{message_id, bk_agent_id, content}\` without credentials: the URL carries \`?${CALLBACK_KEY_PARAM}=<GseCallbackKey>\`, compared in constant time (401 otherwise). A reply to one of our commands from an agent it was sent to becomes that agent's REPLIED outcome; anything else is kept as an upstream message.`,
    requestBody: slotCallbackSchema,
  },
  console_page: {
    summary: "The status page: fleet, 24 h of counts by status, lost agents, alerts, running commands, config versions",
    description:
      "One HTML document (inline style and script, no external fetch) whose script reads `/v1/console/data` every 15 s. " +
      "A browser signs in with HTTP Basic (user: app code, password: app secret); a refusal carries `WWW-Authenticate: Basic`.",
    html: true,
  },
  console_data: {
    description:
      "What the status page shows: the fleet as of the last poll, counts by status over the last 24 h (a snapshot every 5 minutes), " +
      "the most recently lost agents, the newest alerts, running commands with their progress, rollouts (not ended, then ended in the " +
      "last day) with their current wave, gate and errors, the newest desired-state applies, and the latest config versions " +
      "(FAILED, ROLLED_BACK, ROLLBACK_FAILED flagged `highlight`), and at the top each dependency's health: GSE by the last heartbeat " +
      "poll (failing while calls of it failed; the fleet's `gse_answered_at` is then when GSE last answered for every agent), DynamoDB by " +
      "this answer's reads, SNS by the alerts topic. Accepts HTTP Basic as well as the header.",
    responseData: consoleDataSchema,
    failures: {
      503: {
        ...DEPENDENCY_UNAVAILABLE,
        description:
          "DynamoDB could not be read within 10 s (DEPENDENCY_UNAVAILABLE, code 1650301): `data.dependencies` is the strip alone, " +
          "DynamoDB failing with why, SNS as checked, GSE unknown (its signal is in DynamoDB).",
        data: consoleUnavailableDataSchema,
      },
    },
  },
  console_rollout_action: {
    summary: "The status page's rollout buttons: pause, resume or abort a rollout",
    description:
      "As `POST /v1/rollouts/{rollout_id}/{action}`, for the status page: HTTP Basic as well as the header, and the body must be sent as " +
      "`application/json` (400 naming `content-type` otherwise: a form another site posts cannot). Scope `operator`. An abort records " +
      "`aborted by <caller> on the status page`.",
    path: rolloutActionParamSchema,
    requestBody: rolloutActionSchema,
    errors: ["NotFound", "Conflict"],
    responseData: rolloutViewSchema,
  },
  apm_apps: {
    routes: {
      "POST /v1/apm/apps": {
        summary: "Create an APM app (app_name unique per bk_biz_id; 409 otherwise)",
        requestBody: createAppSchema,
        responseData: appViewSchema,
        successStatuses: [201],
        errors: ["Conflict"],
      },
      "GET /v1/apm/apps": { summary: "APM apps, of one business with `?bk_biz_id=`", query: appListQuerySchema, responseData: appListSchema },
      "GET /v1/apm/apps/{bk_biz_id}/{app_name}": {
        summary: "One APM app with its datasources and their last apply",
        path: appPathSchema,
        errors: ["NotFound"],
        responseData: appViewSchema,
      },
      "PUT /v1/apm/apps/{bk_biz_id}/{app_name}": {
        summary: "Change retention or datasource definitions (null removes one); 409 for an enabled datasource or a stale `if_revision`",
        path: appPathSchema,
        requestBody: updateAppSchema,
        errors: ["NotFound", "Conflict"],
        responseData: appViewSchema,
      },
      "DELETE /v1/apm/apps/{bk_biz_id}/{app_name}": {
        summary: "Delete the app and its probe records; 409 while a datasource is enabled",
        path: appPathSchema,
        errors: ["NotFound", "Conflict"],
      },
    },
  },
  apm_datasource: {
    description:
      "Step 1: the datasource's route on its data id channel, as a config version (verified). Step 2: a command to the agents of the app's probes seen within the retention window. " +
      "When either fails the datasource keeps its previous state, the route is rolled back, its `apply` records the step and error, one `apm.datasource_apply` alert is published, and the answer is 502 DATASOURCE_APPLY_FAILED. " +
      "Asking for the state it already has sends nothing (`changed: false`). " +
      "The body is optional: limits alone pace the command; a `strategy`, `bake_seconds` or `gate` tells the probes by a rollout (waves, bake, health gate) whose undo is the opposite action's message — " +
      "the datasource is ROLLING_OUT until the rollout ends, SUCCEEDED applies it, an abort rolls the route back (a gate's abort is one `apm.datasource_apply` alert naming the gate).",
    path: datasourcePathSchema,
    requestBody: datasourceRequestSchema,
    requestBodyOptional: true,
    errors: ["NotFound", "Conflict"],
    responseData: datasourceActionSchema,
    failures: {
      502: {
        description:
          "The start/stop could not be carried out (DATASOURCE_APPLY_FAILED, code 1650203); the datasource kept its previous state and `data` names the step that failed and GSE's error.",
        code: 1650203,
        codeName: "DATASOURCE_APPLY_FAILED",
        data: datasourceApplyFailureSchema,
      },
    },
  },
  apm_probes: {
    routes: {
      "GET /v1/apm/apps/{bk_biz_id}/{app_name}/probes": {
        summary: "Probe instances last seen within the app's retention window (UTC, both ends included); `service`, `limit`, `cursor`",
        path: appPathSchema,
        query: probeQuerySchema,
        errors: ["NotFound"],
        responseData: probeListSchema,
      },
      "POST /v1/apm/apps/{bk_biz_id}/{app_name}/probes": {
        summary: "Report probe instances (at most 1000); last_seen only moves forward",
        path: appPathSchema,
        requestBody: probeIngestSchema,
        errors: ["NotFound"],
        responseData: ingestAnswerSchema,
      },
      "GET /v1/apm/apps/{bk_biz_id}/{app_name}/probe-versions": {
        summary: "Probe versions within the retention window: instances and agents per version",
        path: appPathSchema,
        errors: ["NotFound"],
        responseData: probeVersionsSchema,
      },
      "POST /v1/apm/apps/{bk_biz_id}/{app_name}/discover": {
        summary: "Ask agents for their probe instances; replies through the slot callback are recorded",
        path: appPathSchema,
        requestBody: discoverRequestSchema,
        errors: ["NotFound", "Conflict"],
        responseData: probeCommandAnswerSchema,
      },
      "POST /v1/apm/apps/{bk_biz_id}/{app_name}/upgrade": {
        summary: "Upgrade the probes not on target_version: a command rolled out within max_concurrency / max_errors",
        path: appPathSchema,
        requestBody: upgradeRequestSchema,
        errors: ["NotFound", "Conflict"],
        responseData: probeCommandAnswerSchema,
      },
    },
  },
  plan_create: {
    summary: "Plan a desired-state document against what GSE holds now (changes nothing)",
    description:
      'The body is the desired-state document (docs/desired-state.md; JSON Schema in docs/desired-state.schema.json), or its YAML text as `{"yaml": "…"}`. ' +
      "GSE is read now (the platform's stream_tos, and the channels the document and, with `prune`, the last applied document name), names are resolved to ids " +
      "and links checked; the answer is a field-level diff per object (create, update, delete, unchanged) in the order an apply carries it out, secrets masked. " +
      "The plan is stored with a hash of the state it was computed from. A 400 names each wrong field (under `yaml.` for YAML), and a refused plan (a route naming " +
      "a stream_to that neither the document nor GSE has, or one the plan deletes; a report type that does not match) names each problem by its path.",
    requestBody: createPlanRequestSchema,
    responseData: planViewSchema,
    successStatuses: [201],
  },
  plan_get: {
    summary: "A stored plan, secrets masked",
    description: "`apply_id` names the apply that carried it out, once one did. Plans are kept as long as applies.",
    path: planPathSchema,
    errors: ["NotFound"],
    responseData: planViewSchema,
  },
  plan_apply: {
    summary: "Apply a plan: its changes as versioned config changes, undone on failure, with an optional health-gated bake",
    description:
      "GSE is read again first: when it moved since the plan, nothing is written and the answer is 409 PLAN_STALE with a new plan of the same document. " +
      "Otherwise each change goes through the versioned flow (a config version, verified, the head moved), stream_tos before the routes that use them and " +
      "deletions last; when one fails, those already made are undone in reverse and the apply ends ROLLED_BACK (ROLLBACK_FAILED with what is left), with one " +
      "`config.desired_apply` alert. With `bake_seconds` the apply is BAKING: the `gate` (the alive share of the fleet, or of `agent_id_list` or `labels`, may not " +
      "drop more than `max_alive_drop_points`; the applied objects must still read back as applied) is checked until the bake ends (APPLIED) or trips (rolled back, " +
      "one alert naming the gate). A plan applied already is 409 CONFLICT. The body is optional.",
    path: planPathSchema,
    requestBody: applyRequestSchema,
    requestBodyOptional: true,
    errors: ["NotFound", "Conflict"],
    responseData: applyViewSchema,
    failures: {
      409: {
        description:
          "GSE moved since the plan (PLAN_STALE, code 1640409): nothing was written, `data.plan` is a new plan of the same document to look at and apply; " +
          "or the plan was applied already (CONFLICT, code 1640901), `data` naming the apply.",
        // Two refusals share the status; `code_name` tells them apart: the new plan the engine made
        // (lib/desired/apply.ts PlanStaleError), or the apply that took the plan first.
        data: z.union([z.object({ plan: planViewSchema }), z.object({ plan_id: z.string(), apply_id: z.string().optional() })]),
      },
    },
  },
  apply_history: {
    routes: {
      "GET /v1/applies": {
        summary: "Desired-state applies, newest first (`limit` 1-100, default 20; `cursor`)",
        query: applyListQuerySchema,
        responseData: applyListSchema,
      },
      "GET /v1/applies/{apply_id}": {
        summary: "One apply: status, author, plan, per-object steps with their config versions, error, bake and gate",
        path: applyPathSchema,
        errors: ["NotFound"],
        responseData: applyViewSchema,
      },
    },
  },
  openapi: {
    summary: "This document: every route, generated from the route table and the zod schemas",
    description: "Answered bare (no envelope), so OpenAPI tools can read it.",
    raw: true,
  },
};
