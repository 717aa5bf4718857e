/** stream_to: where GSE sends a channel's data (Kafka, Redis, Pulsar or a file), and its add/update/delete/query bodies. */
import * as z from "zod";
import { labelSchema, operationSchema, reportModeSchema, storageAddressSchema, unusedDataSchema } from "./common.ts";

export const kafkaStreamToSchema = z.looseObject({
  storage_address: z.array(storageAddressSchema),
  sasl_username: z.string().optional(),
  sasl_passwd: z.string().optional(),
  sasl_mechanisms: z.string().optional(),
  security_protocol: z.string().optional(),
});

export const redisStreamToSchema = z.looseObject({
  storage_address: z.array(storageAddressSchema),
  passwd: z.string().optional(),
  master_name: z.string().optional(),
  sentinel_passwd: z.string().optional(),
  mode: z.string().optional(),
});

export const pulsarStreamToSchema = z.looseObject({
  storage_address: z.array(storageAddressSchema),
  token: z.string().optional(),
});

export const streamToSchema = z
  .looseObject({
    name: z.string().min(1),
    report_mode: reportModeSchema,
    data_log_path: z.string().optional(),
    kafka: kafkaStreamToSchema.optional(),
    redis: redisStreamToSchema.optional(),
    pulsar: pulsarStreamToSchema.optional(),
  })
  .superRefine((value, ctx) => {
    const required = value.report_mode === "file" ? "data_log_path" : value.report_mode;
    if (value[required] === undefined) {
      ctx.addIssue({
        code: "custom",
        message: `${required} is required when report_mode is "${value.report_mode}"`,
        path: [required],
      });
    }
  });
export type StreamTo = z.infer<typeof streamToSchema>;

export const streamToMetadataSchema = z.object({
  plat_name: z.string().min(1),
  label: labelSchema.optional(),
});

export const streamToConditionSchema = z.object({
  stream_to_id: z.int(),
  plat_name: z.string().min(1),
});

export const addStreamToRequestSchema = z.object({
  metadata: streamToMetadataSchema,
  operation: operationSchema,
  stream_to: streamToSchema,
});
export type AddStreamToRequest = z.infer<typeof addStreamToRequestSchema>;

export const addStreamToDataSchema = z.looseObject({
  stream_to_id: z.int(),
  // bk-monitor reads only stream_to_id; the doc lists name too, so it is optional here.
  name: z.string().optional(),
});
export type AddStreamToData = z.infer<typeof addStreamToDataSchema>;

export const updateStreamToRequestSchema = z.object({
  condition: streamToConditionSchema,
  operation: operationSchema,
  specification: z.object({ stream_to: streamToSchema }),
});
export type UpdateStreamToRequest = z.infer<typeof updateStreamToRequestSchema>;

export const updateStreamToDataSchema = unusedDataSchema;

export const deleteStreamToRequestSchema = z.object({
  condition: streamToConditionSchema,
  operation: operationSchema,
});
export type DeleteStreamToRequest = z.infer<typeof deleteStreamToRequestSchema>;

export const deleteStreamToDataSchema = unusedDataSchema;

export const queryStreamToRequestSchema = z.object({
  condition: z.object({
    plat_name: z.string().min(1),
    stream_to_id: z.int().optional(),
    label: labelSchema.optional(),
  }),
  operation: operationSchema,
});
export type QueryStreamToRequest = z.infer<typeof queryStreamToRequestSchema>;

export const queryStreamToNestedItemSchema = z.looseObject({
  metadata: z.looseObject({
    plat_name: z.string().optional(),
    stream_to_id: z.int(),
    label: labelSchema.optional(),
  }),
  operation: operationSchema.optional(),
  stream_to: streamToSchema,
});

export const queryStreamToFlatItemSchema = z.looseObject({
  stream_to_id: z.int(),
  name: z.string(),
  report_mode: reportModeSchema,
  data_log_path: z.string().optional(),
  kafka: kafkaStreamToSchema.optional(),
  redis: redisStreamToSchema.optional(),
  pulsar: pulsarStreamToSchema.optional(),
});

// Sources disagree on the item shape (§6.5, §10.1): bk-cmdb/bk-log read nested items, bk-monitor's
// Kafka tail reads flat ones. Nested is tried first; an item carrying both parses as nested.
export const queryStreamToItemSchema = z.union([queryStreamToNestedItemSchema, queryStreamToFlatItemSchema]);
export type QueryStreamToItem = z.infer<typeof queryStreamToItemSchema>;

export const queryStreamToDataSchema = z.array(queryStreamToItemSchema);
export type QueryStreamToData = z.infer<typeof queryStreamToDataSchema>;
