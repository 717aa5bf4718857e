import type { Logger } from "@aws-lambda-powertools/logger";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { AppError, InternalError } from "../core/errors.ts";
import { redactString } from "../core/logger.ts";
import { maskSecrets } from "../core/secrets.ts";
import { failure } from "./envelope.ts";

/** Maps anything thrown to an error the caller may see; never serialises a raw error. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  return new InternalError("internal error", { cause: error });
}

export function errorResponse(error: unknown, requestId: string, logger: Logger): APIGatewayProxyStructuredResultV2 {
  const appError = toAppError(error);
  if (appError.status >= 500) {
    logger.error("request failed", { error: appError.cause instanceof Error ? appError.cause : appError, status: appError.status });
  } else {
    logger.info("request refused", { code: appError.codeName, status: appError.status, reason: redactString(appError.message) });
  }
  const message = appError.expose ? redactString(appError.message) : "internal error";
  return {
    statusCode: appError.status,
    headers: { "content-type": "application/json; charset=utf-8", ...appError.headers },
    body: JSON.stringify(failure(appError.code, appError.codeName, message, appError.expose ? maskSecrets(appError.data) : null, requestId)),
  };
}
