/**
 * The desired-state API (docs/desired-state.md): the document of a POST /v1/plans body (JSON, or
 * YAML text under `yaml`), and the queries of the plan routes. functions/desired/* are
 * thin wrappers around these. Nothing here reaches the apply engine: plan_create's function imports
 * this file and links only GSE and the configs table.
 */
import { parse, YAMLParseError } from "yaml";
import { ValidationError } from "../core/errors.ts";
import { validate } from "../http/handler.ts";
import { createPlan, type PlanDeps } from "./plans.ts";
import { createPlanRequestSchema, type DesiredDocument, desiredDocumentSchema, type PlanView } from "./schemas.ts";

/**
 * The YAML text as a value. The parser's message quotes the source around the error (a password on
 * that line, too), so only its first line, which says what and where, is kept.
 */
function parseYaml(text: string): unknown {
  try {
    return parse(text, { prettyErrors: true });
  } catch (error) {
    if (!(error instanceof YAMLParseError)) throw error;
    throw new ValidationError([{ path: "yaml", message: error.message.split(/:\n/)[0] || "is not valid YAML" }]);
  }
}

/** The YAML branch of createPlanRequestSchema: the text, within its limits. */
const [yamlBodySchema] = createPlanRequestSchema.options;

/** `{ "yaml": "…" }` and nothing else is YAML; any other object is the document itself. */
const isYamlBody = (body: unknown): body is { yaml: unknown } =>
  typeof body === "object" && body !== null && !Array.isArray(body) && Object.keys(body).length === 1 && "yaml" in body;

/**
 * The desired document a POST /v1/plans body carries, validated: a 400 names each field that is
 * wrong (under `yaml.` for a YAML body, so the caller knows the path is inside the text).
 */
export function documentOfRequest(body: unknown): DesiredDocument {
  if (!isYamlBody(body)) return validate(desiredDocumentSchema, body);
  const value = parseYaml(validate(yamlBodySchema, body).yaml);
  try {
    return validate(desiredDocumentSchema, value);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new ValidationError(error.problems.map((p) => ({ ...p, path: p.path ? `yaml.${p.path}` : "yaml" })));
  }
}

/** POST /v1/plans: the plan of the body's document against GSE now (a refusal is a 400 naming each problem). */
export const planFromRequest = (deps: PlanDeps, body: unknown, author: string): Promise<PlanView> => createPlan(deps, documentOfRequest(body), author);
