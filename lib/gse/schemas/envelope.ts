/** The wrapper around every answer: the gateway's `{code, message, data}` and the ESB's `{result, code, message, data}`. */
import * as z from "zod";

// bk-monitor compares codes against strings ("9900403"), so some answers carry the code as a
// numeric string; both parse to a number.
export const responseCodeSchema = z.union([
  z.int(),
  z
    .string()
    .regex(/^-?\d+$/)
    .transform(Number),
]);

/** GSE v2 via the API gateway: `{code, message, data}`; `result` is usually there too (§10.2). */
export function gatewayEnvelopeSchema<T extends z.ZodType>(data: T) {
  return z.object({
    code: responseCodeSchema,
    message: z.string(),
    data,
    result: z.boolean().optional(),
    // bk-monitor falls back to the X-Bkapi-Request-Id header when the body has none.
    request_id: z.string().optional(),
  });
}

/** Legacy ESB: `{result, code, message, data, request_id}`. */
export function esbEnvelopeSchema<T extends z.ZodType>(data: T) {
  return z.object({
    result: z.boolean(),
    code: responseCodeSchema,
    message: z.string(),
    data,
    // Documented as always present, but clients fall back to the response header.
    request_id: z.string().optional(),
  });
}

export const anyGatewayEnvelopeSchema = gatewayEnvelopeSchema(z.unknown());
export type GatewayEnvelope = z.infer<typeof anyGatewayEnvelopeSchema>;

export const anyEsbEnvelopeSchema = esbEnvelopeSchema(z.unknown());
export type EsbEnvelope = z.infer<typeof anyEsbEnvelopeSchema>;

/** Error body of the BlueKing API gateway itself (not GSE). */
export const gatewayErrorBodySchema = z.object({
  code_name: z.string(),
  code: z.int(),
  message: z.string(),
  data: z.null(),
  result: z.literal(false),
});
export type GatewayErrorBody = z.infer<typeof gatewayErrorBodySchema>;
