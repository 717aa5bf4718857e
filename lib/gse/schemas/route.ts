/** Route channels: a channel's routes (which stream_to gets its data) and stream filters, and their add/update/delete/query bodies. */
import * as z from "zod";
import { MAX_ROUTES_PER_REQUEST, channelIdSchema, labelSchema, operationSchema, requireUniqueNames, unusedDataSchema } from "./common.ts";

export const kafkaRouteSchema = z.looseObject({
  topic_name: z.string().min(1),
  data_set: z.string().optional(),
  biz_id: z.int().optional(),
  partition: z.int().optional(),
});

export const redisRouteSchema = z.looseObject({
  channel_name: z.string().min(1),
  data_set: z.string().optional(),
  biz_id: z.int().optional(),
});

// bk-cmdb sends the topic as `name`, GSE's parser requires `topic_name` (§7.1, §10b.2): accept either,
// but one of them must be there.
export const pulsarRouteSchema = z
  .looseObject({
    name: z.string().min(1).optional(),
    topic_name: z.string().min(1).optional(),
    tenant: z.string().optional(),
    namespace: z.string().optional(),
    data_set: z.string().optional(),
    biz_id: z.int().optional(),
    partition: z.int().optional(),
  })
  .superRefine((value, ctx) => {
    if (value.name === undefined && value.topic_name === undefined) {
      ctx.addIssue({ code: "custom", message: "pulsar route needs name or topic_name", path: ["topic_name"] });
    }
  });

export const routeStreamToSchema = z.looseObject({
  stream_to_id: z.int(),
  kafka: kafkaRouteSchema.optional(),
  redis: redisRouteSchema.optional(),
  pulsar: pulsarRouteSchema.optional(),
});

export const routeEntrySchema = z.looseObject({
  name: z.string().min(1),
  stream_to: routeStreamToSchema,
  filter_name_and: z.array(z.string()).optional(),
  filter_name_or: z.array(z.string()).optional(),
});
export type RouteEntry = z.infer<typeof routeEntrySchema>;

export const streamFilterSchema = z.looseObject({
  name: z.string().min(1),
  field_index: z.int(),
  field_data_type: z.enum(["int", "string", "bytes"]),
  field_data_value: z.string(),
  field_separator: z.string().optional(),
  field_in: z.enum(["protocol", "data"]).optional(),
});
export type StreamFilter = z.infer<typeof streamFilterSchema>;

const routeListSchema = z.array(routeEntrySchema).max(MAX_ROUTES_PER_REQUEST).superRefine(requireUniqueNames);
const streamFilterListSchema = z.array(streamFilterSchema).max(MAX_ROUTES_PER_REQUEST).superRefine(requireUniqueNames);

export const routeMetadataSchema = z.object({
  plat_name: z.string().min(1),
  channel_id: channelIdSchema.optional(),
  label: labelSchema.optional(),
});

export const routeConditionSchema = z.object({
  channel_id: channelIdSchema,
  plat_name: z.string().min(1),
  label: labelSchema.optional(),
});

export const addRouteRequestSchema = z.object({
  metadata: routeMetadataSchema,
  operation: operationSchema,
  route: routeListSchema.optional(),
  stream_filters: streamFilterListSchema.optional(),
});
export type AddRouteRequest = z.infer<typeof addRouteRequestSchema>;

export const addRouteDataSchema = z.looseObject({
  channel_id: z.int(),
  proofing_id: z.int().optional(),
});
export type AddRouteData = z.infer<typeof addRouteDataSchema>;

export const updateRouteRequestSchema = z.object({
  condition: routeConditionSchema,
  operation: operationSchema,
  specification: z
    .object({
      route: routeListSchema.optional(),
      stream_filters: streamFilterListSchema.optional(),
    })
    .superRefine((value, ctx) => {
      if (value.route === undefined && value.stream_filters === undefined) {
        ctx.addIssue({ code: "custom", message: "specification needs route or stream_filters", path: [] });
      }
    }),
});
export type UpdateRouteRequest = z.infer<typeof updateRouteRequestSchema>;

export const updateRouteDataSchema = unusedDataSchema;

export const deleteRouteRequestSchema = z
  .object({
    condition: routeConditionSchema,
    operation: z.object({
      operator_name: z.string(),
      method: z.enum(["all", "specification"]),
    }),
    specification: z
      .object({
        route: z.array(z.string()).optional(),
        stream_filters: z.array(z.string()).optional(),
      })
      .optional(),
  })
  .superRefine((value, ctx) => {
    if (value.operation.method === "specification" && value.specification === undefined) {
      ctx.addIssue({
        code: "custom",
        message: 'specification is required when operation.method is "specification"',
        path: ["specification"],
      });
    }
  });
export type DeleteRouteRequest = z.infer<typeof deleteRouteRequestSchema>;

export const deleteRouteDataSchema = unusedDataSchema;

export const queryRouteRequestSchema = z.object({
  condition: z.object({
    channel_id: channelIdSchema,
    plat_name: z.string().optional(),
    label: labelSchema.optional(),
  }),
  operation: operationSchema,
});
export type QueryRouteRequest = z.infer<typeof queryRouteRequestSchema>;

export const queryRouteChannelSchema = z.looseObject({
  metadata: z.looseObject({
    version: z.string().optional(),
    channel_id: z.int(),
    plat_name: z.string().optional(),
    label: labelSchema.optional(),
  }),
  // A channel without routes or filters may come back with the list absent or null (§7.4, §10.10).
  route: z.array(routeEntrySchema).nullish(),
  stream_filters: z.array(streamFilterSchema).nullish(),
});
export type QueryRouteChannel = z.infer<typeof queryRouteChannelSchema>;

export const queryRouteDataSchema = z.array(queryRouteChannelSchema);
export type QueryRouteData = z.infer<typeof queryRouteDataSchema>;
