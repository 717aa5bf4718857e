/** Messages: dispatch_message, dispatch_multi_message and the callback GSE POSTs to a slot. */
import * as z from "zod";
import { MESSAGE_ID_MAX_LENGTH } from "./common.ts";
import { agentIdListSchema, agentIdSchema } from "./agents.ts";

export const messageIdSchema = z.string().min(1).max(MESSAGE_ID_MAX_LENGTH);

export const dispatchMessageRequestSchema = z.object({
  slot_id: z.int(),
  token: z.string().min(1),
  message_id: messageIdSchema,
  agent_id_list: agentIdListSchema,
  content: z.string(),
});
export type DispatchMessageRequest = z.infer<typeof dispatchMessageRequestSchema>;

export const dispatchResultSchema = z.looseObject({
  bk_agent_id: z.string(),
  code: z.int(),
  message: z.string(),
});
export type DispatchResult = z.infer<typeof dispatchResultSchema>;

/** Only agents the message could not be delivered to are listed; absent = delivered. */
export const dispatchMessageDataSchema = z.looseObject({ results: z.array(dispatchResultSchema) });
export type DispatchMessageData = z.infer<typeof dispatchMessageDataSchema>;

export const dispatchMultiMessageRequestSchema = z.object({
  slot_id: z.int(),
  token: z.string().min(1),
  message_id: messageIdSchema,
  agent_message_list: z.array(z.object({ bk_agent_id: agentIdSchema, content: z.string() })).min(1),
  front_content: z.string().optional(),
  back_content: z.string().optional(),
});
export type DispatchMultiMessageRequest = z.infer<typeof dispatchMultiMessageRequestSchema>;

export const dispatchMultiMessageDataSchema = dispatchMessageDataSchema;
export type DispatchMultiMessageData = DispatchMessageData;

/** Body GSE POSTs to the slot's callback URL (§5.4). */
export const slotCallbackSchema = z.object({
  message_id: z.string().min(1),
  bk_agent_id: agentIdSchema,
  content: z.string(),
});
export type SlotCallback = z.infer<typeof slotCallbackSchema>;
